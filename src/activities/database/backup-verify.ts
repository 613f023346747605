// Checks a backup before anything destructive relies on it (invariant 3). Read-only: it
// reads the file, its manifest and the archive's table of contents, and never connects
// to the database. Each failure says exactly what is wrong.
import { stat } from 'node:fs/promises';
import { assertBareFileName, manifestNameFor } from '../../domain/backup-names';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BackupInvalidError, BadInputError } from '../../domain/errors';
import type { BackupManifest } from '../../domain/types';
import { inspectArchive, type ArchiveContents } from './backup-archive';
import { backupPaths, digestFile, readManifest } from '../shared/backup-files';

const UNCHANGED = 'nothing was changed';

export async function verifyBackupFile(
  d: DeploymentConfig,
  deployment: string,
  file: string,
  liveName: string,
): Promise<{ manifest: BackupManifest; contents: ArchiveContents }> {
  assertBareFileName(file);
  const dir = d.backup.dir;
  const paths = backupPaths(dir, file);
  const size = (await stat(paths.dump).catch(() => undefined))?.size;
  if (size === undefined) throw new BadInputError(`backup ${file} not found in ${dir}`, '`day2 backups` lists them');

  const invalid = (why: string) => new BackupInvalidError(`backup ${file} cannot be used: ${why}; ${UNCHANGED}`);
  const manifest = await readManifest(paths.manifest).catch((err: Error) => {
    throw invalid(err.message);
  });
  if (!manifest) throw invalid(`it has no manifest (${manifestNameFor(file)}): incomplete, or not taken by day2`);
  if (manifest.file !== file) throw invalid(`its manifest describes ${manifest.file} (renamed?)`);
  if (manifest.deployment !== deployment) throw invalid(`it belongs to deployment '${manifest.deployment}', not '${deployment}'`);
  if (size !== manifest.sizeBytes) {
    throw invalid(`its size is ${size} bytes but its manifest says ${manifest.sizeBytes} (truncated or altered)`);
  }
  const { sha256 } = await digestFile(paths.dump);
  if (sha256 !== manifest.sha256) {
    throw invalid(
      `its SHA-256 checksum is ${sha256.slice(0, 12)}… but its manifest says ${manifest.sha256.slice(0, 12)}… (altered on disk)`,
    );
  }

  const contents = await inspectArchive(paths.dump, file).catch((err: Error) => {
    throw invalid(err.message);
  });
  // A foreign archive: a dump of some other database, even with a plausible manifest.
  if (contents.dbname !== manifest.database) {
    throw invalid(`the archive is a dump of database '${contents.dbname}' but its manifest says '${manifest.database}'`);
  }
  if (manifest.database !== liveName) {
    throw invalid(`it is a dump of database '${manifest.database}', but ${deployment}'s database is '${liveName}'`);
  }
  if (contents.tocEntries !== manifest.tocEntries) {
    throw invalid(`pg_restore --list shows ${contents.tocEntries} entries but its manifest says ${manifest.tocEntries}`);
  }
  return { manifest, contents };
}
