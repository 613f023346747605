// Writes a file so that a reader (or a crash) sees either the old content or the new one,
// never half of it: a temporary file in the same directory, fsync, rename, fsync of the
// directory. The file keeps its mode (and owner, when we run as root) across the rewrite.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** Mode of a file day2 creates: secrets and dumps are readable by their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Replaces `file` with `data` atomically. `mode` defaults to the existing file's mode,
 * else 0600. The temporary file is created with the final mode, so the data is never
 * readable by anyone the final file would not allow.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  const finalMode = mode ?? (existing ? existing.mode & 0o7777 : PRIVATE_FILE_MODE);
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

  const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, finalMode);
  try {
    await handle.writeFile(data);
    // open() applies the umask; chmod makes the mode exactly what was asked for.
    await handle.chmod(finalMode);
    if (existing && process.getuid?.() === 0) await handle.chown(existing.uid, existing.gid);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(dir);
}

/** Makes a rename or a new directory entry durable (the entry lives in the directory). */
export const fsyncDirectory = (dir: string) => fsyncPath(dir);

/** Makes a file written by someone else (pg_dump, tar) durable before it is published. */
export const fsyncFile = (file: string) => fsyncPath(file);

async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
