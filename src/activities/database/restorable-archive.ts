// What pg_restore is given for a backup: a custom-format backup is its file; a directory-
// format one (a tar, see directory-archive.ts) is unpacked first into a private directory
// inside the backup directory (the same filesystem, so the room a restore needs is where
// the backups are), hashed as it is read and compared with its manifest BEFORE pg_restore
// sees any of it, and removed afterwards, also when the restore fails. The directory is
// named by the caller's key (its workflow run): a retry after a crash removes the
// crashed attempt's first.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BackupInvalidError } from '../../domain/errors';
import { sniffBackupFormat } from './backup-archive';
import { unpackArchive } from './directory-archive';
import { backupPaths, readManifest } from '../shared/backup-files';
import { PRIVATE_DIR_MODE } from '../shared/backup-files';

export interface RestorableArchive {
  /** A custom-format file, or the unpacked directory of a directory-format backup. */
  path: string;
  format: 'custom' | 'directory';
}

export const unpackDirOf = (dir: string, file: string, key: string) => path.join(dir, `.${file}.${key}.unpack`);

export async function withRestorableArchive<T>(
  backupDir: string,
  file: string,
  key: string,
  use: (archive: RestorableArchive) => Promise<T>,
): Promise<T> {
  const paths = backupPaths(backupDir, file);
  // The file's own first bytes decide: a manifest cannot make pg_restore read a tar.
  if ((await sniffBackupFormat(paths.dump)) !== 'directory') return use({ path: paths.dump, format: 'custom' });

  const invalid = (why: string) => new BackupInvalidError(`backup ${file} cannot be used: ${why}; nothing was changed`);
  const manifest = await readManifest(paths.manifest).catch((err: Error) => {
    throw invalid(err.message);
  });
  if (!manifest) throw invalid('it has no manifest to check the unpacked archive against');
  const unpacked = unpackDirOf(backupDir, file, key);
  await rm(unpacked, { recursive: true, force: true });
  await mkdir(unpacked, { mode: PRIVATE_DIR_MODE });
  try {
    const digest = await unpackArchive(paths.dump, unpacked, file);
    if (digest.sha256 !== manifest.sha256 || digest.sizeBytes !== manifest.sizeBytes) {
      throw invalid(
        `as unpacked, its SHA-256 is ${digest.sha256.slice(0, 12)}… (${digest.sizeBytes} bytes) but its manifest says ${manifest.sha256.slice(0, 12)}… (${manifest.sizeBytes} bytes): altered on disk`,
      );
    }
    return await use({ path: unpacked, format: 'directory' });
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}
