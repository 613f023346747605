// Every gate a day2 workflow can wait at, once: workflows name their gates from here, and
// `day2 approve|reject --gate <name>` refuses any other name before contacting Temporal: a
// gate that does not exist is bad input (exit 2), whereas a real gate the workflow is not
// waiting at (yet, or any more) is a refusal (exit 3) — retrying later can help with the
// second, never with the first. The strings are in histories and docs: never change one.
import { BadInputError } from './errors';

export const GATES = {
  /** restore (and point-in-time restore): approve = replace the live data. */
  confirmRestore: 'confirm-restore',
  /** `day2 rollback`: approve = restore the backup (everything since it is lost). */
  confirmRollback: 'confirm-rollback',
  /** After a failed upgrade step: approve = roll back (also the outcome on timeout). */
  rollbackFailedUpgrade: 'rollback-failed-upgrade',
  /** An upgrade whose preflight failed, only with --ask-on-failed-preflight: approve = upgrade anyway. */
  proceedDespitePreflight: 'proceed-despite-preflight',
  /** API-key secret rotation, in dual-secret mode: approve = re-hash every key. */
  verifyDualSecret: 'verify-dual-secret',
  /** API-key secret rotation, after re-hashing: approve = drop the previous secret. */
  commitRotation: 'commit-rotation',
  /** pgBackRest backup, the first time: archive_mode needs a restart. */
  restartForArchiving: 'restart-for-archiving',
  /** A fleet operation with --canary, after the canary wave: approve = go on to the other deployments. */
  promoteFleet: 'promote-fleet',
} as const;

export type GateName = (typeof GATES)[keyof typeof GATES];

export const GATE_NAMES: readonly GateName[] = Object.values(GATES);

export function assertKnownGate(name: string): GateName {
  if (!(GATE_NAMES as readonly string[]).includes(name)) {
    throw new BadInputError(`there is no gate '${name}'`, `day2's gates are: ${GATE_NAMES.join(', ')}`);
  }
  return name as GateName;
}
