// Every gate a day2 workflow can wait at. `day2 approve|reject --gate <name>` refuses any
// other name before contacting Temporal: a gate that does not exist is bad input (exit 2),
// whereas a real gate the workflow is not waiting at (yet, or any more) is a refusal
// (exit 3) — retrying later can help with the second, never with the first.
// A workflow that adds a gate lists its name here; test/gate-names.test.ts fails if any
// `*_GATE = '…'` constant under src/ is missing.
import { BadInputError } from './errors';

export const GATE_NAMES: readonly string[] = [
  'confirm-restore', // restore
  'confirm-rollback', // rollback
  'rollback-failed-upgrade', // upgrade
  'proceed-despite-preflight', // upgrade, only with --ask-on-failed-preflight
  'verify-dual-secret', // API-key secret rotation
  'commit-rotation', // API-key secret rotation
  'restart-for-archiving', // pgBackRest backup, the first time (archive_mode needs a restart)
  'promote-fleet', // fleet operations with --canary: after the canary wave
];

export function assertKnownGate(name: string): string {
  if (!GATE_NAMES.includes(name)) {
    throw new BadInputError(`there is no gate '${name}'`, `day2's gates are: ${GATE_NAMES.join(', ')}`);
  }
  return name;
}
