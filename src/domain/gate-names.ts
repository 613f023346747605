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

/** Gates whose approval cannot be taken back: it overwrites a live database (everything
 * written since the backup is lost) or discards a secret keys still depend on. `day2
 * approve` of one asks y/N on a terminal first (`--yes` skips it). Not here: a restart
 * for archiving (connections drop for seconds, no data is lost), promoting a fleet and
 * upgrading despite a failed preflight (each upgrade backs up first and rolls back a bad
 * release). Rejecting never asks: it changes nothing. */
export const DESTRUCTIVE_GATES: ReadonlySet<GateName> = new Set<GateName>([
  GATES.confirmRestore,
  GATES.confirmRollback,
  GATES.rollbackFailedUpgrade,
  GATES.verifyDualSecret, // re-hashes every API key under the new secret: irreversible
  GATES.commitRotation, // removes the previous secret: keys hashed under it stop working
]);

export const isDestructiveGate = (name: string): boolean => (DESTRUCTIVE_GATES as ReadonlySet<string>).has(name);

export function assertKnownGate(name: string): GateName {
  if (!(GATE_NAMES as readonly string[]).includes(name)) {
    throw new BadInputError(`there is no gate '${name}'`, `day2's gates are: ${GATE_NAMES.join(', ')}`);
  }
  return name as GateName;
}
