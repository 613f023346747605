// Takes a backup, idempotently per workflow run. The order of the steps is chosen so that
// a crash at any point leaves either nothing under the final name, or a final dump whose
// manifest is still under this run's partial name (the retry finishes the job), or the
// finished pair. A final-named dump is never overwritten.
//
//   1. pg_dump -Fc → .<file>.<runId>.partial           (crash: retry starts over)
//      (format directory: pg_dump -Fd -j → .<file>.<runId>.dir.partial, pg_restore --list
//      of it, then packed into .<file>.<runId>.partial and removed; see backup-directory.ts)
//   2. pg_restore --list and SHA-256 of the partial,   (crash: retry starts over)
//      side by side (the file is still in the page cache)
//   3. manifest → .<file>.<runId>.manifest.partial     (crash: retry starts over)
//   4. link partial dump → <file> (fails if it exists) (crash: retry sees <file> plus its
//                                                        own partial manifest, finishes)
//   5. rename partial manifest → <file>.manifest.json  (done: retry reuses)
import { link, open, rename, rm, stat } from 'node:fs/promises';
import { assertBareFileName } from '../../domain/backup-names';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BackupInvalidError, BadInputError } from '../../domain/errors';
import type { BackupManifest } from '../../domain/types';
import { fsyncDirectory, PRIVATE_FILE_MODE } from '../../lib/atomic-file';
import { inspectArchive, type ArchiveContents } from './backup-archive';
import { dumpDirectoryArchive } from './backup-directory';
import { dumpOptionsOf, dumpProgress, type DumpOptions } from './dump-options';
import {
  backupPaths,
  digestFile,
  ensureBackupDir,
  type FileDigest,
  rememberDigest,
  fileExists,
  matchesManifest,
  partialPaths,
  readManifest,
  writeManifest,
  writePreUpgradeVersionFile,
} from '../shared/backup-files';
import type { DatabaseTarget } from '../shared/pg-connection';
import { withClient } from '../shared/pg-connection';
import { pgProgramMajor, runPgProgram } from '../shared/pg-programs';

export interface BackupRun {
  deployment: string;
  fileName: string;
  workflowId: string;
  runId: string;
  createdAt: string;
  appVersion?: string | null;
  preUpgradeVersion?: string;
}

export interface BackupOutcome {
  manifest: BackupManifest;
  reused: boolean;
}

export async function ensureBackup(d: DeploymentConfig, target: DatabaseTarget, run: BackupRun): Promise<BackupOutcome> {
  assertBareFileName(run.fileName);
  if (!/^[A-Za-z0-9_-]+$/.test(run.runId)) throw new BadInputError(`run id '${run.runId}' cannot be part of a file name`);
  const dir = d.backup.dir;
  await ensureBackupDir(dir);

  const outcome = (await resumeExisting(dir, run)) ?? {
    manifest: await dumpFresh(dir, target, run, d),
    reused: false,
  };
  // Also on reuse: a crash may have come between the manifest and this file.
  if (run.preUpgradeVersion) await writePreUpgradeVersionFile(dir, run.preUpgradeVersion);
  return outcome;
}

/** The result of an earlier attempt of this run, or undefined when nothing is there yet. */
async function resumeExisting(dir: string, run: BackupRun): Promise<BackupOutcome | undefined> {
  const final = backupPaths(dir, run.fileName);
  if (!(await fileExists(final.dump))) return undefined;

  const manifest = await readManifest(final.manifest).catch((err: Error) => {
    throw new BadInputError(
      `backup ${run.fileName} already exists with an unreadable manifest (${err.message}); day2 never overwrites a backup`,
    );
  });
  if (manifest) {
    if (manifest.runId !== run.runId) {
      throw new BadInputError(
        `backup ${run.fileName} already exists (taken by workflow ${manifest.workflowId}); day2 never overwrites a backup`,
        'start a new backup (it gets a new name) or move the file out of the backup directory',
      );
    }
    if (!(await matchesManifest(final.dump, manifest))) {
      throw new BackupInvalidError(`backup ${run.fileName} was taken by this run but no longer matches its manifest (changed on disk?)`);
    }
    return { manifest, reused: true };
  }

  // A final dump without a manifest: ours if our partial manifest describes it (crash
  // between steps 4 and 5), else incomplete or foreign — and never ours to replace.
  const partial = partialPaths(dir, run.fileName, run.runId);
  const pending = await readManifest(partial.manifest).catch(() => undefined);
  if (pending && (await matchesManifest(final.dump, pending))) {
    await publishManifest(dir, partial.manifest, final.manifest);
    await rm(partial.dump, { force: true });
    await rm(partial.dir, { recursive: true, force: true });
    return { manifest: pending, reused: true };
  }
  throw new BadInputError(
    `${run.fileName} already exists in ${dir} without a manifest (an incomplete or foreign file); day2 never overwrites it`,
    'move it out of the backup directory, or start a new backup',
  );
}

async function dumpFresh(dir: string, target: DatabaseTarget, run: BackupRun, d: DeploymentConfig): Promise<BackupManifest> {
  const final = backupPaths(dir, run.fileName);
  const partial = partialPaths(dir, run.fileName, run.runId);
  const { serverVersion, serverMajor, databaseBytes } = await withClient(target.ownerLiveUrl, async (c) => {
    const { rows } = await c.query<{ server_version: string; num: string; size: string }>(
      `SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS num,
              pg_database_size(current_database())::text AS size`,
    );
    return {
      serverVersion: rows[0]?.server_version ?? 'unknown',
      serverMajor: Math.floor(Number(rows[0]?.num ?? 0) / 10000),
      databaseBytes: Number(rows[0]?.size ?? 0),
    };
  });
  const opts = await dumpOptionsOf(d, async () => (await pgDumpFor(target, serverVersion, serverMajor)).major);
  if (target.exec && opts.format === 'directory') {
    throw new BadInputError(
      `backup.format directory cannot be used with runtime.databaseVia exec: pg_dump -Fd writes a directory inside the container, not a stream`,
      'use backup.format custom (the default) for a database reached inside compose',
    );
  }
  if (target.exec) await pgDumpFor(target, serverVersion, serverMajor);

  // Whatever an earlier attempt of this run left is discarded: this attempt starts over.
  await rm(partial.dump, { force: true });
  await rm(partial.dir, { recursive: true, force: true });
  let manifest: BackupManifest;
  try {
    const { contents, digest } =
      opts.format === 'directory'
        ? await dumpDirectoryArchive(target, partial, run.fileName, opts, databaseBytes)
        : await dumpCustomArchive(target, partial.dump, run.fileName, opts, databaseBytes);
    if (contents.dbname !== target.liveName) {
      throw new BackupInvalidError(`the dump of ${target.label} says it is of database '${contents.dbname}'`);
    }
    manifest = manifestOf(run, target, serverVersion, contents, digest, opts.format);
    await writeManifest(partial.manifest, manifest);
  } catch (err) {
    // A failed attempt leaves nothing behind that a retry would not discard anyway.
    await rm(partial.dump, { force: true });
    await rm(partial.dir, { recursive: true, force: true });
    await rm(partial.manifest, { force: true });
    throw err;
  }
  await publishDump(partial.dump, final.dump, run.fileName);
  await publishManifest(dir, partial.manifest, final.manifest);
  // Retention, moments later in this worker, need not read the file again (unless it changed).
  await rememberDigest(final.dump, { sha256: manifest.sha256, sizeBytes: manifest.sizeBytes });
  return manifest;
}

/** pg_dump -Fc into `dumpPath`, then its table of contents and SHA-256. */
async function dumpCustomArchive(
  target: DatabaseTarget,
  dumpPath: string,
  fileName: string,
  opts: DumpOptions,
  databaseBytes: number,
): Promise<{ contents: ArchiveContents; digest: FileDigest }> {
  // pg_dump truncates and fills the file we create: it is 0600 from its first byte.
  await (await open(dumpPath, 'w', PRIVATE_FILE_MODE)).close();
  await runPgProgram({
    tool: 'pg_dump',
    // Inside compose the dump comes back on stdout into the same file. Unlike --file, a
    // stream cannot be seeked back into, so the archive's table of contents then has no
    // data offsets: pg_restore reads it front to back (and cannot use -j on it).
    args: ['--format=custom', ...opts.compression, ...(target.exec ? [] : [`--file=${dumpPath}`])],
    url: target.ownerLiveUrl,
    what: `dump of ${target.label}`,
    progress: dumpProgress(() => stat(dumpPath).then((st) => st.size), databaseBytes),
    exec: target.exec,
    stdoutFile: target.exec ? dumpPath : undefined,
  });
  // pg_dump seeks back to rewrite the table of contents when it closes a custom archive,
  // so the file can only be hashed once it is complete. Both reads run side by side.
  const [contents, digest] = await Promise.all([inspectArchive(dumpPath, fileName, target.exec), digestFile(dumpPath)]);
  return { contents, digest };
}

function manifestOf(
  run: BackupRun,
  target: DatabaseTarget,
  serverVersion: string,
  contents: ArchiveContents,
  digest: FileDigest,
  format: DumpOptions['format'],
): BackupManifest {
  return {
    file: run.fileName,
    deployment: run.deployment,
    database: target.liveName,
    serverVersion,
    appVersion: run.appVersion ?? null,
    sizeBytes: digest.sizeBytes,
    sha256: digest.sha256,
    createdAt: run.createdAt,
    workflowId: run.workflowId,
    runId: run.runId,
    ...(run.preUpgradeVersion ? { preUpgradeVersion: run.preUpgradeVersion } : {}),
    tocEntries: contents.tocEntries,
    format,
  };
}

/** Gives the dump its final name without ever replacing a file of that name: link()
 * fails with EEXIST where rename() would silently overwrite. */
async function publishDump(partialDump: string, finalDump: string, fileName: string): Promise<void> {
  try {
    await link(partialDump, finalDump);
    await rm(partialDump, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BadInputError(`backup ${fileName} appeared while it was being taken; day2 never overwrites a backup`);
    // Filesystems without hard links: check, then rename (one mutating operation per
    // deployment runs at a time, so nobody else races us for this name).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    if (await fileExists(finalDump)) throw new BadInputError(`backup ${fileName} appeared while it was being taken`);
    await rename(partialDump, finalDump);
  }
}

async function publishManifest(dir: string, partialManifest: string, finalManifest: string): Promise<void> {
  await rename(partialManifest, finalManifest);
  await fsyncDirectory(dir);
}

const pgDumpChecked = new WeakMap<DatabaseTarget, Promise<{ major: number; line: string }>>();

/** The pg_dump that will run, checked against the server: pg_dump refuses a server newer
 * than itself, so say it first, naming where it runs. Inside compose that is the database
 * service's own pg_dump (`docker compose exec -T <service> pg_dump --version`). */
function pgDumpFor(target: DatabaseTarget, serverVersion: string, serverMajor: number): Promise<{ major: number; line: string }> {
  let known = pgDumpChecked.get(target);
  if (!known) {
    known = pgProgramMajor('pg_dump', target.exec?.via).then((dump) => {
      if (target.exec && serverMajor && dump.major < serverMajor) {
        throw new BadInputError(
          `${dump.line} is older than the server (PostgreSQL ${serverVersion}): it cannot dump it`,
          `run the database service on an image whose PostgreSQL tools are at least ${serverMajor}`,
        );
      }
      return dump;
    });
    pgDumpChecked.set(target, known);
  }
  return known;
}
