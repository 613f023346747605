// The pgBackRest backup method: its config block, the shapes its workflows pass around and
// the pure rules they decide by (which target a backup can reach, what a restore loses).
// Pure: no I/O. Workflows import only its types: its zod schema would be instantiated again
// in every cached workflow (see restore-target.ts).
import { z } from 'zod';
import { describeTarget, type RestoreTarget } from './restore-target';

/** A path pgBackRest and PostgreSQL's archive_command take as is: absolute, no quoting needed. */
const plainPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/@+-]*$/, 'expected an absolute path of letters, digits and ._/@+- (it goes into archive_command unquoted)');

export const pgbackrestSchema = z.strictObject({
  /** pgBackRest's name for this cluster's backups and WAL archive. */
  stanza: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'expected letters, digits, _ and -'),
  /** The repository (repo1-path): a local directory the cluster's OS user can write. With
   * `repo: offsite` it holds only pgBackRest's lock files. */
  repoPath: plainPath,
  /** local: the repository is `repoPath`. offsite: the bucket of `backup.offsite` (under
   * `<prefix>pgbackrest/`), reached over TLS only, as pgBackRest requires. */
  repo: z.enum(['local', 'offsite']).default('local'),
  /** PEM file of the CA that signed the S3 endpoint's certificate (a private server). */
  s3CaFile: plainPath.optional(),
  /** The cluster's data directory on the worker's host, which day2 may configure, stop,
   * start and replace (a restore swaps a restored copy in beside it). */
  dataDir: plainPath,
  /** Where day2 writes the stanza's pgbackrest.conf (default `<dataDir>/../day2-pgbackrest-<stanza>.conf`). */
  configFile: plainPath.optional(),
  /** Port and Unix socket directory pgBackRest connects on (default: what the server
   * reached through DATABASE_URL reports: `port`, first of `unix_socket_directories`). */
  pgPort: z.number().int().positive().optional(),
  socketPath: plainPath.optional(),
  /** The server log `pg_ctl start -l` writes (default `<dataDir>/../server.log`). */
  serverLog: plainPath.optional(),
  processMax: z.number().int().positive().default(2),
  /** Full backups kept (repo1-retention-full); their differentials, incrementals and WAL go with them. */
  retentionFull: z.number().int().positive().default(2),
  /** What `day2 backup` takes when not told (`--type`). The first backup is always full. */
  type: z.enum(['full', 'diff', 'incr']).default('incr'),
  compressType: z.enum(['none', 'gz', 'lz4', 'zst']).default('lz4'),
  /** Env-file variable holding the repository passphrase (aes-256-cbc); unset: unencrypted. */
  cipherPassVar: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  /** PostgreSQL's archive_timeout, seconds: the recovery point is never older than this
   * while the database is written to. */
  archiveTimeout: z.number().int().positive().default(60),
});
export type PgbackrestConfig = z.infer<typeof pgbackrestSchema>;

export type PgbackrestBackupType = 'full' | 'diff' | 'incr';

/** One backup in the repository, from `pgbackrest info --output=json`. */
export interface PgbackrestBackup {
  label: string;
  type: PgbackrestBackupType;
  /** ISO times the backup started and stopped. */
  startedAt: string;
  stoppedAt: string;
  lsnStart: string;
  lsnStop: string;
  walStart: string;
  walStop: string;
  /** Database size and what the repository holds for this backup (compressed, deduplicated). */
  sizeBytes: number;
  repoSizeBytes: number;
  /** The full (and diff) backups it depends on. */
  prior?: string;
  annotations: Record<string, string>;
}

/** What the repository says, in short. */
export interface PgbackrestRepoState {
  backups: PgbackrestBackup[];
  /** Oldest and newest WAL segment archived. */
  walMin?: string;
  walMax?: string;
  /** A backup command holds the stanza's lock (one runs now). */
  backupRunning: boolean;
}

/** The database server, as the worker finds it (src/activities/pgbackrest/cluster.ts). */
export interface ClusterFacts {
  dataDir: string;
  port: number;
  socketPath: string;
  archiveMode: string;
  archiveCommand: string;
  archiveTimeout: number;
  walLevel: string;
  /** pg_control's system identifier: a stanza is bound to it. */
  systemId: string;
  /** Settings whose change waits for a restart (ALTER SYSTEM done, restart not yet). */
  pendingRestart: string[];
}

export interface ArchivingHealth {
  ok: boolean;
  /** Failed pushes since the last successful one (0 when the last push succeeded). */
  failingSince?: string;
  failedCount: number;
  lastArchivedWal?: string;
  lastArchivedAt?: string;
  /** Seconds since the last segment was archived: the recovery point, at worst. */
  rpoSeconds?: number;
  detail: string;
}

export type { RestoreTarget };
export { describeTarget };

export interface PitrRestoreInput {
  deployment: string;
  target: RestoreTarget;
  yes?: boolean;
  gateTimeoutSeconds?: number;
  /** The caller (a rollback) runs the preflight checks itself once its release is verified. */
  preflightByCaller?: boolean;
}

export interface PitrPlan {
  /** The backup pgBackRest restores from and replays WAL after. */
  backup: PgbackrestBackup;
  /** pgBackRest's restore options for this target. */
  args: string[];
  /** When the live cluster's last WAL was archived (everything until then is in the repo). */
  archivedUntil: string;
  /** Exactly what the restore loses, for the confirmation gate. */
  loses: string;
}

export interface PitrRestoreResult {
  outcome: 'restored' | 'rejected';
  target: RestoreTarget;
  backup?: string;
  /** The previous data directory, kept (rename it back to undo). */
  keptAs?: string;
  /** `schema.table` → rows, in the restored database. */
  tables?: Record<string, number>;
  reason?: string;
}

export interface PgbackrestBackupInput {
  deployment: string;
  type?: PgbackrestBackupType;
  /** Skip the restart gate (archiving needs one restart the first time). */
  yes?: boolean;
  gateTimeoutSeconds?: number;
  /** An upgrade's pre-upgrade backup: archiving that still waits for its restart is refused
   * (exit 2, nothing stopped) instead of waiting at a gate inside the upgrade. */
  refuseRestart?: boolean;
}

/** Where an upgrade of a pgBackRest deployment can be undone to: a named restore point
 * written after the worker stopped and before the first migration, so a rollback loses only
 * what the still-running API wrote during the failed upgrade. Kept in
 * `<backup.dir>/.pre-upgrade-point.json` for `day2 rollback` without arguments. */
export interface PreUpgradePoint {
  workflowId: string;
  /** The release that ran before the upgrade. */
  version: string;
  lsn: string;
  /** The restore point's time (server clock, ISO). */
  at: string;
  /** The pre-upgrade backup it is reached from. */
  backupLabel: string;
}

export interface PgbackrestBackupResult {
  outcome: 'backed-up' | 'rejected';
  backup?: PgbackrestBackup;
  reused?: boolean;
  expired?: string[];
  archiving?: ArchivingHealth;
  reason?: string;
}

export interface PgbackrestDrillInput {
  deployment: string;
  target: RestoreTarget;
}

/** `day2 restore --to-time`, `--to-lsn`: a target that is not a time, an LSN, or is in the future is refused up front. */
export function parseRestoreTarget(opts: { toTime?: string; toLsn?: string; latest?: boolean }, now: Date): RestoreTarget {
  const given = [opts.toTime !== undefined, opts.toLsn !== undefined, Boolean(opts.latest)].filter(Boolean).length;
  if (given !== 1) throw new Error('give exactly one of --to-time, --to-lsn, --latest');
  if (opts.latest) return { kind: 'latest' };
  if (opts.toLsn !== undefined) {
    if (!/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(opts.toLsn))
      throw new Error(`'${opts.toLsn}' is not an LSN (expected e.g. 0/3000060)`);
    return { kind: 'lsn', lsn: opts.toLsn.toUpperCase() };
  }
  const t = new Date(opts.toTime!);
  if (!/\d{4}-\d{2}-\d{2}T/.test(opts.toTime!) || Number.isNaN(t.getTime()) || !/(Z|[+-]\d{2}:?\d{2})$/.test(opts.toTime!)) {
    throw new Error(`'${opts.toTime}' is not an ISO time with a zone (expected e.g. 2026-12-01T10:00:00Z)`);
  }
  if (t.getTime() > now.getTime())
    throw new Error(`${t.toISOString()} is in the future (now ${now.toISOString()}): nothing to restore to yet`);
  return { kind: 'time', time: t.toISOString() };
}

/** pgBackRest (and recovery_target_time) take `2026-12-01 10:00:00.123+00`, not ISO's T…Z. */
function pgbackrestTime(iso: string): string {
  return `${new Date(iso).toISOString().replace('T', ' ').replace('Z', '')}+00`;
}

/** `0/3000060` → a number that orders LSNs. */
function lsnValue(lsn: string): bigint {
  const [hi = '0', lo = '0'] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/**
 * Which backup can reach `target`, and the pgBackRest options that get there — or why none
 * can (a message for a BadInputError). A time target must be after the oldest backup
 * stopped (a backup is consistent only from its stop point) and not after what is archived.
 */
export function planRestore(
  target: RestoreTarget,
  backups: PgbackrestBackup[],
  archived: { at: string; lsn: string },
): { ok: true; backup: PgbackrestBackup; args: string[] } | { ok: false; why: string } {
  const sorted = [...backups].sort((a, b) => a.stoppedAt.localeCompare(b.stoppedAt));
  const oldest = sorted[0];
  if (!oldest) return { ok: false, why: 'the repository has no backup: take one with day2 backup first' };
  if (target.kind === 'latest') {
    return { ok: true, backup: sorted.at(-1)!, args: ['--type=default'] };
  }
  if (target.kind === 'time') {
    const t = Date.parse(target.time);
    if (t <= Date.parse(oldest.stoppedAt)) {
      return {
        ok: false,
        why: `${target.time} is before the oldest backup (${oldest.label}) finished at ${oldest.stoppedAt}: no backup can reach it`,
      };
    }
    if (t > Date.parse(archived.at)) {
      return {
        ok: false,
        why: `${target.time} is after the last archived WAL (${archived.at}): those writes are not in the repository yet`,
      };
    }
    const backup = sorted.filter((b) => Date.parse(b.stoppedAt) < t).at(-1)!;
    return { ok: true, backup, args: ['--type=time', `--target=${pgbackrestTime(target.time)}`, `--set=${backup.label}`] };
  }
  const l = lsnValue(target.lsn);
  if (l < lsnValue(oldest.lsnStop)) {
    return { ok: false, why: `LSN ${target.lsn} is before the oldest backup (${oldest.label}) reached consistency at ${oldest.lsnStop}` };
  }
  if (l > lsnValue(archived.lsn)) return { ok: false, why: `LSN ${target.lsn} is after the last archived WAL (${archived.lsn})` };
  const backup = sorted.filter((b) => lsnValue(b.lsnStop) <= l).at(-1)!;
  return { ok: true, backup, args: ['--type=lsn', `--target=${target.lsn}`, `--set=${backup.label}`] };
}
