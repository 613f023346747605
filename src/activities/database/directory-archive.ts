// A directory-format dump (pg_dump -Fd) kept as ONE file, so everything that handles a
// backup — manifest checksum, retention, off-site copies, verification — handles it like a
// custom-format one: an uncompressed tar of the directory (its members are compressed by
// pg_dump already), hashed as it is written, and unpacked (hashed as it is read) for
// pg_restore. A member must be a plain file with a bare name, as pg_dump writes them
// (toc.dat, 1234.dat.gz, blobs.toc, blob_16384.dat…): anything else is a foreign or
// tampered archive and is refused, never written outside the directory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { BackupInvalidError } from '../../domain/errors';
import { PRIVATE_FILE_MODE } from '../../lib/atomic-file';
import type { FileDigest } from '../shared/backup-files';
import { beat } from '../shared/heartbeat';

const MEMBER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const TOC = 'toc.dat';

/** Packs every file of `dir` into the tar `tarPath` (created 0600, fsynced) and returns the
 * SHA-256 and size of the bytes written. */
export async function packDirectory(dir: string, tarPath: string): Promise<FileDigest> {
  // toc.dat first: a reader looking for the table of contents finds it at once.
  const members = (await readdir(dir)).sort((a, b) => Number(b === TOC) - Number(a === TOC) || a.localeCompare(b));
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let lastBeat = Date.now();
  const out = await open(tarPath, 'w', PRIVATE_FILE_MODE);
  try {
    // portable: no uid, gid, user names or ctime: the archive depends on the dump alone.
    for await (const chunk of tar.create({ cwd: dir, portable: true }, members) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      await out.write(chunk);
      if (Date.now() - lastBeat > 1000) {
        beat({ phase: 'pack', packedBytes: sizeBytes });
        lastBeat = Date.now();
      }
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

/** Unpacks the tar `tarPath` into the existing, empty directory `dest`, returning the SHA-256
 * and size of the bytes read (the caller compares them with the manifest before using what
 * was unpacked). `only`: unpack just these members. */
export async function unpackArchive(tarPath: string, dest: string, name: string, only?: string[]): Promise<FileDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let refused: string | undefined;
  const unpack = new tar.Unpack({
    cwd: dest,
    strict: true,
    // Only readable inside `dest` (0700); no owners (tar would, as root), no times.
    preserveOwner: false,
    noMtime: true,
    filter: (memberPath, entry) => {
      const type = 'type' in entry ? entry.type : undefined;
      if (type !== 'File' || !MEMBER_NAME.test(memberPath)) {
        refused ??= `${type ?? 'entry'} '${memberPath}'`;
        return false;
      }
      return !only || only.includes(memberPath);
    },
  });
  const source = createReadStream(tarPath, { highWaterMark: 1024 * 1024 });
  let lastBeat = Date.now();
  source.on('data', (chunk) => {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
    if (Date.now() - lastBeat > 1000) {
      beat({ phase: 'unpack', unpackedBytes: sizeBytes });
      lastBeat = Date.now();
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      source.on('error', reject);
      unpack.on('error', reject);
      unpack.on('close', resolve);
      source.pipe(unpack);
    });
  } catch (err) {
    source.destroy();
    throw new BackupInvalidError(`${name} is not a readable directory-format archive (truncated or corrupt?): ${(err as Error).message}`);
  }
  if (refused) throw new BackupInvalidError(`${name} holds ${refused}, which pg_dump never writes: not a day2 directory-format archive`);
  return { sha256: hash.digest('hex'), sizeBytes };
}

/** One read of the archive: its SHA-256 and size, and `use` run on a private temporary
 * directory holding only its toc.dat (enough for `pg_restore --list`), removed afterwards. */
export async function withTableOfContents<T>(
  tarPath: string,
  name: string,
  use: (dir: string, digest: FileDigest) => Promise<T>,
): Promise<T> {
  // The table of contents holds the schema (no rows): a 0700 directory of its own suffices.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'day2-toc-'));
  try {
    const digest = await unpackArchive(tarPath, dir, name, [TOC]);
    if (!(await stat(path.join(dir, TOC)).catch(() => undefined))) {
      throw new BackupInvalidError(`${name} has no ${TOC}: not a directory-format archive`);
    }
    return await use(dir, digest);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Total size of the files in `dir` (pg_dump's progress while it writes a directory). */
export async function directoryBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const sizes = await Promise.all(
    names.map((n) =>
      stat(path.join(dir, n)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
