// Checks a backup before anything destructive relies on it (invariant 3). Read-only: it
// reads the file, its manifest and the archive's table of contents, and never connects
// to the database. Each failure says exactly what is wrong.
import { stat } from 'node:fs/promises';
import { assertBareFileName, manifestNameFor } from '../../domain/backup-names';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BackupInvalidError, BadInputError, DatabaseUnreachableError } from '../../domain/errors';
import type { DatabaseExec } from '../shared/pg-connection';
import type { BackupManifest } from '../../domain/types';
import { backupFormatOf } from '../../domain/backup-manifest-schema';
import { inspectArchive, sniffBackupFormat, type ArchiveContents } from './backup-archive';
import { withTableOfContents } from './directory-archive';
import { backupPaths, digestFile, readManifest } from '../shared/backup-files';

const UNCHANGED = 'nothing was changed';

const invalidBackup = (file: string, why: string) => new BackupInvalidError(`backup ${file} cannot be used: ${why}; ${UNCHANGED}`);

/** A backup whose bytes no longer hash to its manifest's SHA-256 is refused, saying so. */
export function assertChecksum(file: string, sha256: string, manifest: BackupManifest): void {
  if (sha256 === manifest.sha256) return;
  throw invalidBackup(
    file,
    `its SHA-256 checksum is ${sha256.slice(0, 12)}… but its manifest says ${manifest.sha256.slice(0, 12)}… (altered on disk)`,
  );
}

export interface VerifyOptions {
  /** A database reached inside compose: pg_restore --list runs there, the archive on stdin. */
  exec?: DatabaseExec;
  /** A custom-format archive's SHA-256 is left to the staging restore, which hashes it while
   * pg_restore reads it (restoreWhileHashing in database/index.ts): one read instead of two, and still
   * before anything destructive. Everything else is checked here as always. */
  checksumWhileRestoring?: boolean;
}

export async function verifyBackupFile(
  d: DeploymentConfig,
  deployment: string,
  file: string,
  liveName: string,
  opts: VerifyOptions = {},
): Promise<{ manifest: BackupManifest; contents: ArchiveContents }> {
  const { exec } = opts;
  assertBareFileName(file);
  const dir = d.backup.dir;
  const paths = backupPaths(dir, file);
  const size = (await stat(paths.dump).catch(() => undefined))?.size;
  if (size === undefined) throw new BadInputError(`backup ${file} not found in ${dir}`, '`day2 backups` lists them');

  const invalid = (why: string) => invalidBackup(file, why);
  const manifest = await readManifest(paths.manifest).catch((err: Error) => {
    throw invalid(err.message);
  });
  if (!manifest) throw invalid(`it has no manifest (${manifestNameFor(file)}): incomplete, or not taken by day2`);
  if (manifest.file !== file) throw invalid(`its manifest describes ${manifest.file} (renamed?)`);
  if (manifest.deployment !== deployment) throw invalid(`it belongs to deployment '${manifest.deployment}', not '${deployment}'`);
  if (size !== manifest.sizeBytes) {
    throw invalid(`its size is ${size} bytes but its manifest says ${manifest.sizeBytes} (truncated or altered)`);
  }
  const format = backupFormatOf(manifest);
  const found = await sniffBackupFormat(paths.dump);
  // The other format is a mix-up; an unrecognisable custom archive is left to pg_restore
  // --list below, whose message says what is wrong with it (empty, truncated, …).
  if (found !== format && found !== 'unknown') throw invalid(`its manifest says format ${format}, but the file is ${found} format`);
  if (found === 'unknown' && format === 'directory')
    throw invalid('it is not a readable directory-format archive (a tar of pg_dump -Fd files): truncated or corrupt?');
  // A directory-format backup is read once: hashed while its toc.dat is taken out to list.
  const read =
    format === 'directory'
      ? await withTableOfContents(paths.dump, file, async (tocDir, digest) => ({
          sha256: digest.sha256,
          listing: await inspectArchive(tocDir, file).then(
            (contents) => ({ contents }),
            (err: Error) => ({ error: err.message }),
          ),
        })).catch((err: Error) => {
          throw invalid(err.message);
        })
      : { sha256: opts.checksumWhileRestoring ? undefined : (await digestFile(paths.dump)).sha256, listing: undefined };
  if (read.sha256 !== undefined) assertChecksum(file, read.sha256, manifest);
  const listing =
    read.listing ??
    (await inspectArchive(paths.dump, file, exec).then(
      (contents) => ({ contents }),
      (err: Error) => {
        // The database service not running says nothing about the file.
        if (err instanceof DatabaseUnreachableError) throw err;
        return { error: err.message };
      },
    ));
  if ('error' in listing) throw invalid(listing.error);
  const listed = listing.contents;
  // A foreign archive: a dump of some other database, even with a plausible manifest.
  if (listed.dbname !== manifest.database) {
    throw invalid(`the archive is a dump of database '${listed.dbname}' but its manifest says '${manifest.database}'`);
  }
  if (manifest.database !== liveName) {
    throw invalid(`it is a dump of database '${manifest.database}', but ${deployment}'s database is '${liveName}'`);
  }
  if (listed.tocEntries !== manifest.tocEntries) {
    throw invalid(`pg_restore --list shows ${listed.tocEntries} entries but its manifest says ${manifest.tocEntries}`);
  }
  return { manifest, contents: listed };
}
