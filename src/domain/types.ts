// Types shared by workflows, activities and the client. Pure data: safe in workflows.
import type { HostWait } from './hosts';
import type { OffsiteOutcome } from './offsite';

import type { Operation } from './operations';

export type { Operation };

export type StepStatus = 'pending' | 'running' | 'waiting' | 'done' | 'skipped' | 'failed';

export interface Step {
  name: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
  /** While the step runs: how far its activity is (`1.2 GiB of ~3.4 GiB, 85 MiB/s, ~26 s
   * left`, `running 2 min of at most 30 min`), as the activity last signalled it. */
  live?: string;
}

export interface GateState {
  name: string;
  question: string;
  since: string;
  timeoutAt: string;
  defaultOutcome: 'approve' | 'reject';
  approveCommand: string;
}

export interface Progress {
  workflowId: string;
  operation: Operation;
  deployment: string;
  steps: Step[];
  gate?: GateState;
  /** Set while a step waits on a host queue no worker picks it up from. */
  hostWait?: HostWait;
  /** Set when the workflow has finished. */
  outcome?: string;
}

export interface GateDecision {
  gate: string;
  approve: boolean;
  by: string;
  reason: string;
  /** Evidence from the automated approver (check results), recorded in history. */
  evidence?: CheckResult[];
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Passed, but wants attention (shown as ⚠; never fails an operation). */
  warning?: boolean;
}

/** The data restores replaced and kept as their undo (see activities/database/kept-copies.ts). */
export interface KeptCopy {
  kind: 'database' | 'safety-dump';
  name: string;
  bytes: number;
  /** When the restore that kept it started (from the stamp in the name), ISO. */
  keptAt?: string;
}

/** What `day2 cleanup` dropped; names already gone (a retry, or by hand) are not an error. */
export interface CleanupResult {
  dropped: KeptCopy[];
  alreadyGone: string[];
}

export interface KeptCopies {
  count: number;
  bytes: number;
  copies: KeptCopy[];
}

/** Written beside every backup as `<file>.manifest.json`. */
export interface BackupManifest {
  file: string;
  deployment: string;
  database: string;
  serverVersion: string;
  appVersion: string | null;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  workflowId: string;
  runId: string;
  /** Version running before an upgrade, when the backup was taken for one. */
  preUpgradeVersion?: string;
  /** Number of entries `pg_restore --list` found. */
  tocEntries: number;
  /** directory: the file is a tar of a `pg_dump -Fd` directory (backup.format). Absent in
   * manifests written before directory format existed: custom. */
  format?: BackupFormat;
}

export type BackupFormat = 'custom' | 'directory';

export interface BackupInput {
  deployment: string;
  /** Recorded in the manifest and `.pre-upgrade-version` when called by an upgrade. */
  preUpgradeVersion?: string;
  keep?: number;
}

/** What a backup schedule starts (src/workflows/scheduled-backup.ts). */
export interface ScheduledBackupInput {
  deployment: string;
  keep?: number;
  /** backup.method pgbackrest: the pgBackRest backup type each run takes (absent: pg_dump). */
  pgbackrestType?: 'full' | 'diff' | 'incr';
  /** The schedule's name (`day2 schedule backup --name hourly`), for the skip notice. */
  schedule?: string;
}

export type ScheduledBackupResult = { outcome: 'backed-up'; file: string } | { outcome: 'skipped'; reason: string };

/** What a drill schedule starts (src/workflows/scheduled-drill.ts). */
export interface ScheduledDrillInput {
  deployment: string;
  schedule?: string;
  /** backup.method pgbackrest: drill a restore of everything archived instead of a dump. */
  pgbackrest?: boolean;
  /** Passed to the drill workflow as is (its `deployment` is the schedule's): `{ remote:
   * 'latest' }` when the deployment has an off-site copy (unless `--local`), else `{}`, the
   * newest local backup. */
  drill?: Omit<DrillInput, 'deployment'>;
}

export type ScheduledDrillResult =
  { outcome: 'drilled'; workflowId: string; file: string; ok: boolean } | { outcome: 'skipped'; reason: string };

export interface BackupResult {
  file: string;
  manifest: BackupManifest;
  reused: boolean;
  deleted: string[];
  /** `offsite-failed`: the local backup is good and kept, its off-site copy failed. */
  outcome?: 'backed-up' | 'offsite-failed';
  /** Absent when no `backup.offsite` is configured (or the run predates off-site copies). */
  offsite?: OffsiteOutcome;
}

export interface RestoreInput {
  deployment: string;
  /** A backup in the backup directory; or see `remote`. */
  file?: string;
  /** Restore an off-site copy instead (its file name, or `latest`): it is downloaded into
   * the backup directory and verified first. */
  remote?: string;
  /** Skip the confirmation gate. */
  yes?: boolean;
  gateTimeoutSeconds?: number;
  /** A backup taken under another release than the one running: `backup` switches to the
   * backup's release with its data (a rollback), `running` keeps the running release and
   * runs its migrations forward on the restored data before it starts. Without it such a
   * restore is refused, naming both releases. */
  release?: RestoreRelease;
  /** The caller (a rollback) has already put the right release in place, and runs the
   * preflight checks itself once its release is verified. */
  releaseDecided?: boolean;
}

export type RestoreRelease = 'backup' | 'running';

export interface PreflightResult {
  ok: boolean;
  checks: CheckResult[];
}

export interface DrillInput {
  deployment: string;
  /** The backup to drill; default: the newest. */
  file?: string;
  /** Drill an off-site copy (its file name, or `latest`), downloaded and verified first. */
  remote?: string;
}

export interface DrillResult {
  file: string;
  ok: boolean;
  checks: CheckResult[];
  /** `schema.table` → rows, as restored into the scratch cluster. */
  tables: Record<string, number>;
  restoreSeconds: number;
}

export interface RestoreResult {
  outcome: 'restored' | 'rejected';
  file: string;
  keptAs?: string;
  checks: CheckResult[];
  reason?: string;
  /** Every kept copy of replaced data after this restore, this one's included. */
  kept?: KeptCopies;
}

export interface SupportBundleInput {
  deployment: string;
  /** `support-bundle-ledger-2026-12-01-183000.tar.gz`, from the workflow's start time. */
  fileName: string;
  workflowId: string;
  runId: string;
  createdAt: string;
}

/** Something the bundle leaves out on purpose, or could not get: an operator reading it
 * must know what is missing and why, rather than guess. */
export interface BundleOmission {
  what: string;
  why: string;
}

export interface SupportBundleResult {
  file: string;
  /** Absolute path on the worker's host. */
  path: string;
  bytes: number;
  sha256: string;
  /** One line a section (env file, services, logs, database, checks, health, system). */
  sections: CheckResult[];
  omitted: BundleOmission[];
  /** A retried activity found the bundle its first attempt finished. */
  reused: boolean;
}

/** How an operation ended, as a webhook receives it. Secret-free: it is in history. */
export interface OperationEvent {
  deployment: string;
  operation: Operation;
  /** `skipped`: a scheduled run found another operation holding the deployment. */
  outcome: 'succeeded' | 'failed' | 'skipped';
  workflowId: string;
  runId: string;
  detail: string;
  at: string;
}

export interface NotifyResult {
  sent: boolean;
  /** `200 from hooks.example.com`, or why nothing was sent. */
  detail: string;
}
