// The backup directory: `<file>.dump` beside `<file>.dump.manifest.json`, work in progress
// under dot-names ending in `.partial` (never accepted as a backup name, swept by
// retention). A dump without a manifest is incomplete or foreign and is never listed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { backupManifestSchema } from '../../domain/backup-manifest-schema';
import { manifestNameFor } from '../../domain/backup-names';
import { BackupInvalidError } from '../../domain/errors';
import type { BackupManifest } from '../../domain/types';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../../lib/atomic-file';
import { beat } from './heartbeat';

export const PRIVATE_DIR_MODE = 0o700;
export const PRE_UPGRADE_VERSION_FILE = '.pre-upgrade-version';

export const backupPaths = (dir: string, file: string) => ({
  dump: path.join(dir, file),
  manifest: path.join(dir, manifestNameFor(file)),
});

/** Work in progress of one workflow run: a retry of the same run recognises its own. */
export const partialPaths = (dir: string, file: string, runId: string) => ({
  dump: path.join(dir, `.${file}.${runId}.partial`),
  manifest: path.join(dir, `.${file}.${runId}.manifest.partial`),
  /** backup.format directory: where pg_dump -Fd writes before the dump is packed. */
  dir: path.join(dir, `.${file}.${runId}.dir.partial`),
});

/** Creates the directory 0700 (dumps hold every row of the database); an existing
 * directory keeps the mode its operator gave it. */
export async function ensureBackupDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode passes through the umask; chmod makes it exact.
  if (created) await chmod(dir, PRIVATE_DIR_MODE);
}

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The manifest, or undefined when there is none. A manifest that exists but does not
 * parse is an error: the backup cannot be trusted. */
export async function readManifest(manifestPath: string): Promise<BackupManifest | undefined> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupInvalidError(`${path.basename(manifestPath)} is not valid JSON`);
  }
  const parsed = backupManifestSchema.safeParse(json);
  if (!parsed.success) throw new BackupInvalidError(`${path.basename(manifestPath)} is not a day2 backup manifest`);
  return parsed.data;
}

export async function writeManifest(manifestPath: string, manifest: BackupManifest): Promise<void> {
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, PRIVATE_FILE_MODE);
}

export interface FileDigest {
  sha256: string;
  sizeBytes: number;
}

/** SHA-256 and size, streamed (dumps can be larger than memory), heartbeating as it reads
 * unless something else beside it heartbeats the activity's progress (`heartbeat: false`);
 * `signal` stops the read (an activity's cancellation). */
export async function digestFile(file: string, opts: { heartbeat?: boolean; signal?: AbortSignal } = {}): Promise<FileDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let lastBeat = Date.now();
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal: opts.signal })) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
    if (opts.heartbeat !== false && Date.now() - lastBeat > 1000) {
      beat({ hashedBytes: sizeBytes });
      lastBeat = Date.now();
    }
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

export async function matchesManifest(
  dumpPath: string,
  manifest: BackupManifest,
  opts: { trustRecentDigest?: boolean } = {},
): Promise<boolean> {
  const st = await stat(dumpPath, { bigint: true }).catch(() => undefined);
  if (!st || Number(st.size) !== manifest.sizeBytes) return false;
  const recent = opts.trustRecentDigest ? recentDigests.get(fileIdentity(dumpPath, st)) : undefined;
  return (recent ?? (await digestFile(dumpPath)).sha256) === manifest.sha256;
}

/** Digests this worker computed of files that have not changed since (same inode, size,
 * modification and change times to the nanosecond: any write changes the change time, and
 * no one can set it back). Lets retention skip re-reading the backup taken moments ago. */
const recentDigests = new Map<string, string>();
const RECENT_DIGESTS_KEPT = 64;

function fileIdentity(file: string, st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${file}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Records a digest just computed by reading `file` (see matchesManifest). */
export async function rememberDigest(file: string, digest: FileDigest): Promise<void> {
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  if (!st || Number(st.size) !== digest.sizeBytes) return;
  recentDigests.set(fileIdentity(file, st), digest.sha256);
  while (recentDigests.size > RECENT_DIGESTS_KEPT) recentDigests.delete(recentDigests.keys().next().value!);
}

/** Every backup with a manifest and its dump, newest first. Unreadable manifests are
 * reported to `onSkip` and left alone. */
export async function listManifests(dir: string, onSkip: (file: string, why: string) => void = () => {}): Promise<BackupManifest[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const manifests: BackupManifest[] = [];
  for (const name of names) {
    if (name.startsWith('.') || !name.endsWith('.manifest.json')) continue;
    try {
      const manifest = await readManifest(path.join(dir, name));
      if (!manifest) continue;
      if (manifestNameFor(manifest.file) !== name) {
        onSkip(name, `describes ${manifest.file}`);
        continue;
      }
      if (!(await fileExists(path.join(dir, manifest.file)))) continue;
      manifests.push(manifest);
    } catch (err) {
      onSkip(name, (err as Error).message);
    }
  }
  return manifests.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.file.localeCompare(a.file));
}

export async function writePreUpgradeVersionFile(dir: string, version: string): Promise<void> {
  await ensureBackupDir(dir);
  await writeFileAtomic(path.join(dir, PRE_UPGRADE_VERSION_FILE), `${version}\n`, PRIVATE_FILE_MODE);
}

export async function readPreUpgradeVersionFile(dir: string): Promise<string | null> {
  try {
    return (await readFile(path.join(dir, PRE_UPGRADE_VERSION_FILE), 'utf8')).trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
