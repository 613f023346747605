// Inputs and results of the upgrade and rollback workflows. Pure data: safe in workflows.
import type { CheckResult, KeptCopies } from './types';

export interface UpgradeInput {
  deployment: string;
  /** Target release (semver). */
  version: string;
  /** No pre-upgrade backup: a failed upgrade then cannot be rolled back automatically. */
  skipBackup?: boolean;
  /** Allow a downgrade (normally a rollback's job). */
  force?: boolean;
  /** Roll back a failed upgrade without asking, as `upgrade.autoRollback: true` does. */
  yes?: boolean;
  /** Overrides the rollback gate's timeout (default: the gate's policy, else 30 min). */
  gateTimeoutSeconds?: number;
  /** A failing pre-upgrade preflight waits at a gate instead of refusing the upgrade. */
  askOnFailedPreflight?: boolean;
  /** backup.method pgbackrest (set by the CLI from the config): the pre-upgrade backup is a
   * pgBackRest backup plus a recovery point just before the migrations, and a rollback is a
   * point-in-time recovery to it. Absent: pg_dump. */
  pgbackrest?: { type: 'full' | 'diff' | 'incr' };
}

export interface UpgradeResult {
  /** 'rejected': the proceed-despite-preflight gate was rejected; nothing was changed. */
  outcome: 'upgraded' | 'rolled-back' | 'failed' | 'rejected';
  from: string;
  to: string;
  /** Why the upgrade did not end as 'upgraded': the failed step and its error, and what followed. */
  reason?: string;
  /** The pre-upgrade backup file, when one was taken. */
  backup?: string;
  rollback?: RollbackResult;
}

/** What the worker's config says about upgrades of a deployment (read once, at the start). */
export interface UpgradePolicy {
  autoRollback: boolean;
  rollbackGateTimeoutSeconds?: number;
  readyTimeoutSeconds: number;
  deprecatedVars: string[];
}

export interface RollbackInput {
  deployment: string;
  /** Target release; default: the backup's manifest, then `.pre-upgrade-version`. */
  version?: string;
  /** Backup file name; default: the newest one that verifies. */
  backup?: string;
  /** Roll back to an off-site copy (its file name, or `latest`), downloaded and verified first. */
  remote?: string;
  /** Skip the confirmation gate (an upgrade's own gate already decided). */
  yes?: boolean;
  gateTimeoutSeconds?: number;
  /** Why, when an upgrade started this rollback. */
  reason?: string;
  /** backup.method pgbackrest: recover the cluster to this point instead of restoring a dump
   * (an upgrade passes its pre-upgrade point; the CLI, `.pre-upgrade-point.json` or --to-lsn). */
  pitr?: { lsn?: string; version?: string; at?: string };
}

export interface RollbackResult {
  outcome: 'rolled-back' | 'rejected';
  /** Release running before the rollback, when known. */
  from: string | null;
  version: string;
  backup: string;
  backupTakenAt: string;
  /** Time between the backup and the rollback: what was lost. */
  lostSeconds: number;
  /** Where the replaced database was kept. */
  keptAs?: string;
  /** Every kept copy of replaced data after this rollback (from its restore). */
  kept?: KeptCopies;
  /** e.g. the pull failed and the release already present was used. */
  warning?: string;
  checks?: CheckResult[];
  reason?: string;
}
