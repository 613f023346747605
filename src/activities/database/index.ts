// Database activities: backup, verification, retention, restore. Each resolves the
// deployment's database from its env file itself, so no URL or password ever passes
// through a workflow (or its history) or a log line: logs name `database@host` only.
// The work lives in the files named for each step; this file wires them to the config.
import { activityCancellationSignal, currentActivity } from '../shared/activity-context';
import { assertBareFileName } from '../../domain/backup-names';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError, DatabaseLoginError } from '../../domain/errors';
import type { BackupManifest, CleanupResult, KeptCopies } from '../../domain/types';
import { ensureBackup, type BackupOutcome, type BackupRun } from './backup-create';
import {
  backupPaths,
  digestFile,
  fileExists,
  listManifests,
  readManifest,
  readPreUpgradeVersionFile,
  writePreUpgradeVersionFile,
} from '../shared/backup-files';
import { applyRetentionInDir, type RetentionOutcome } from './backup-retention';
import { assertChecksum, verifyBackupFile } from './backup-verify';
import type { ActivityDeps } from '../shared/deps';
import { dropKeptCopies, keptCopiesOf } from './kept-copies';
import { databaseTargetOf, probeDatabase, type DatabaseTarget } from '../shared/pg-connection';
import { restoreLiveInPlace, type InPlaceOutcome } from './restore-in-place';
import { withRestorableArchive } from './restorable-archive';
import { assertScratchDatabase, dropScratchDatabase, restoreIntoStaging, swapDatabases } from './restore-staging';

export type CreateBackupInput = BackupRun;

export function databaseActivities({ resolve, logger }: ActivityDeps) {
  const withTarget = async (deployment: string) => {
    const d = resolve(deployment);
    return { d, target: await databaseTargetOf(d) };
  };
  // Before an operation touches anything: can we get in? A clear DatabaseUnreachable /
  // DatabaseLogin failure (CLI exit 2) instead of a pg_dump error four retries later.
  const probe = (d: DeploymentConfig, target: DatabaseTarget, url: string) =>
    probeDatabase(url, target.label, `${d.databaseUrlVar} (and ${d.migrationUrlVar}, if set) in ${d.envFile}`);

  return {
    /** pg_dump -Fc (or -Fd -j, packed: backup.format) into the backup dir under `fileName`, verified and with a manifest.
     * A retry of the same run reuses (or finishes) its own file; another run's is refused. */
    async createBackup(input: CreateBackupInput): Promise<BackupOutcome> {
      const { d, target } = await withTarget(input.deployment);
      await probe(d, target, target.ownerLiveUrl);
      const started = Date.now();
      const outcome = await ensureBackup(d, target, input);
      logger.info(
        {
          deployment: input.deployment,
          database: target.label,
          file: input.fileName,
          reused: outcome.reused,
          sizeBytes: outcome.manifest.sizeBytes,
          ms: Date.now() - started,
        },
        'backup ready',
      );
      return outcome;
    },

    /** Manifest, size, SHA-256, pg_restore --list, and that it is a dump of this
     * deployment's database. Read-only. `checksumWhileRestoring`: a restore that goes
     * straight on to its staging restore (no gate to wait at) leaves a custom archive's
     * SHA-256 to stageRestore. */
    async verifyBackup(input: { deployment: string; file: string; checksumWhileRestoring?: boolean }): Promise<BackupManifest> {
      const { d, target } = await withTarget(input.deployment);
      const { manifest } = await verifyBackupFile(d, input.deployment, input.file, target.liveName, {
        exec: target.exec,
        checksumWhileRestoring: input.checksumWhileRestoring,
      });
      // Can we log in where the restore will work: the maintenance database (staging, swap),
      // else the live one (the in-place fallback).
      await probe(d, target, target.adminUrl).catch(async (err: unknown) => {
        if (!(err instanceof DatabaseLoginError)) throw err;
        await probe(d, target, target.ownerLiveUrl);
      });
      return manifest;
    },

    /** Backups with a manifest, newest first. */
    async listBackups(input: { deployment: string }): Promise<BackupManifest[]> {
      const d = resolve(input.deployment);
      return listManifests(d.backup.dir, (file, why) =>
        logger.warn({ deployment: input.deployment, file, why }, 'backup manifest skipped'),
      );
    },

    /** Keeps the newest `keep` (default: the deployment's backup.keep), the newest one
     * that verifies, and every `protect`ed name; sweeps stale `.partial` files. */
    async applyRetention(input: { deployment: string; keep?: number; protect?: string[] }): Promise<RetentionOutcome> {
      const d = resolve(input.deployment);
      const policy = { keep: input.keep ?? d.backup.keep, keepDays: d.backup.keepDays };
      return applyRetentionInDir(d.backup.dir, policy, input.protect ?? [], logger.child({ deployment: input.deployment }));
    },

    /** (Re)creates `stagingDb` and restores `file` into it. Throws type 'NoCreateDb' when
     * the role may not create databases (the workflow then restores in place). */
    async stageRestore(input: { deployment: string; file: string; stagingDb: string }): Promise<{ stagingDb: string }> {
      const { d, target } = await withTarget(input.deployment);
      assertBareFileName(input.file);
      assertScratchDatabase(target, input.stagingDb, 'staging database');
      const dumpPath = backupPaths(d.backup.dir, input.file).dump;
      if (!(await fileExists(dumpPath)))
        throw new BadInputError(`backup ${input.file} not found in ${d.backup.dir}`, '`day2 backups` lists them');
      const started = Date.now();
      const manifest = await readManifest(backupPaths(d.backup.dir, input.file).manifest).catch(() => undefined);
      // A directory-format backup is unpacked and checked against its manifest first, before
      // the staging database is (re)created.
      await withRestorableArchive(d.backup.dir, input.file, currentRun().runId, (archive) => {
        const restore = () =>
          restoreIntoStaging(target, archive, input.file, input.stagingDb, { jobs: d.restore.jobs, tocEntries: manifest?.tocEntries });
        // A directory-format archive was checked against its manifest as it was unpacked.
        return archive.format === 'directory' || !manifest ? restore() : restoreWhileHashing(input.file, archive.path, manifest, restore);
      });
      logger.info(
        { deployment: input.deployment, database: target.label, stagingDb: input.stagingDb, ms: Date.now() - started },
        'backup restored into staging database',
      );
      return { stagingDb: input.stagingDb };
    },

    /** The one short destructive step: live → keepAs, staging → live, in one transaction. */
    async swapInRestoredDatabase(input: { deployment: string; stagingDb: string; keepAs: string }): Promise<{ alreadyDone: boolean }> {
      const { target } = await withTarget(input.deployment);
      assertScratchDatabase(target, input.stagingDb, 'staging database');
      assertScratchDatabase(target, input.keepAs, 'name for the previous database');
      if (input.stagingDb === input.keepAs)
        throw new BadInputError('the staging database and the name for the previous database must differ');
      return swapDatabases(target, input.stagingDb, input.keepAs, logger.child({ deployment: input.deployment }));
    },

    /** Drops a staging or set-aside database; refuses the live one. */
    async dropDatabaseIfExists(input: { deployment: string; name: string }): Promise<{ dropped: boolean }> {
      const { target } = await withTarget(input.deployment);
      const outcome = await dropScratchDatabase(target, input.name);
      if (outcome.dropped) logger.info({ deployment: input.deployment, dropped: input.name, server: target.label }, 'database dropped');
      return outcome;
    },

    /** Fallback without CREATEDB: safety dump to `safetyFile`, then pg_restore --clean
     * --single-transaction into the live database. */
    async restoreInPlace(input: {
      deployment: string;
      file: string;
      safetyFile: string;
      workflowId?: string;
      runId?: string;
    }): Promise<InPlaceOutcome> {
      const { d, target } = await withTarget(input.deployment);
      assertBareFileName(input.file);
      if (input.file === input.safetyFile) throw new BadInputError('the safety dump must not replace the backup being restored');
      if (!(await fileExists(backupPaths(d.backup.dir, input.file).dump))) {
        throw new BadInputError(`backup ${input.file} not found in ${d.backup.dir}`, '`day2 backups` lists them');
      }
      const run = currentRun();
      const safety: BackupRun = {
        deployment: input.deployment,
        fileName: input.safetyFile,
        workflowId: input.workflowId ?? run.workflowId,
        runId: input.runId ?? run.runId,
        createdAt: new Date().toISOString(),
      };
      return restoreLiveInPlace(d, target, input.file, safety, run.runId, logger.child({ deployment: input.deployment }));
    },

    async writePreUpgradeVersion(input: { deployment: string; version: string }): Promise<void> {
      const d = resolve(input.deployment);
      if (!input.version.trim() || /[\r\n]/.test(input.version)) throw new BadInputError(`'${input.version}' is not a version`);
      await writePreUpgradeVersionFile(d.backup.dir, input.version.trim());
    },

    async readPreUpgradeVersion(input: { deployment: string }): Promise<string | null> {
      return readPreUpgradeVersionFile(resolve(input.deployment).backup.dir);
    },

    /** How many copies of replaced data restores have kept, and their size (read-only). */
    async countKeptCopies(input: { deployment: string }): Promise<KeptCopies> {
      return keptCopiesOf(resolve(input.deployment), input.deployment);
    },

    /** `day2 cleanup`: drops exactly the named kept copies (never the live database). */
    async dropKeptCopies(input: { deployment: string; names: string[] }): Promise<CleanupResult> {
      const outcome = await dropKeptCopies(resolve(input.deployment), input.deployment, input.names);
      logger.info(
        { deployment: input.deployment, dropped: outcome.dropped.map((c) => c.name), alreadyGone: outcome.alreadyGone },
        'dropped kept copies of replaced data',
      );
      return outcome;
    },
  };
}

/** The workflow run this activity serves (it keys the safety dump), or a fixed identity
 * when called outside Temporal (tests, scripts). */
function currentRun(): { workflowId: string; runId: string } {
  const execution = currentActivity()?.info.workflowExecution;
  return execution ? { workflowId: execution.workflowId, runId: execution.runId } : { workflowId: 'manual', runId: 'manual' };
}

/** A custom archive's staging restore with its SHA-256 taken side by side, each reading the
 * file once (on 2 cores the hash adds nothing measurable to pg_restore -j 2). Nothing
 * destructive has happened yet: a mismatch fails the step, and the workflow drops the
 * staging database. The checksum is the answer even when pg_restore failed first on the
 * altered bytes: it says what is wrong. */
async function restoreWhileHashing(file: string, archivePath: string, manifest: BackupManifest, restore: () => Promise<void>) {
  // A cancelled activity stops reading too, rather than hashing on to the end of the file.
  const reading = { heartbeat: false, signal: activityCancellationSignal() };
  const [restored, digest] = await Promise.allSettled([restore(), digestFile(archivePath, reading)]);
  if (digest.status === 'fulfilled') assertChecksum(file, digest.value.sha256, manifest);
  if (restored.status === 'rejected') throw restored.reason;
  if (digest.status === 'rejected') throw digest.reason;
}
