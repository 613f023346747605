// Keeps the newest N backups (and, with `keepDays`, every backup younger than that) and
// deletes the rest, but never the newest one that still verifies (if every newer one is
// damaged, that one is the real safety net) nor any the caller protects. Also sweeps work-in-progress files abandoned by crashed runs.
// Idempotent: a second run finds nothing more to delete.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../../domain/errors';
import type { BackupManifest } from '../../domain/types';
import type { Logger } from '../../logger';
import { backupPaths, listManifests, matchesManifest } from '../shared/backup-files';

/** A `.partial` (file or directory) this old belongs to no running backup (those heartbeat and finish, or die). */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

export interface RetentionOutcome {
  /** Backup files deleted (each with its manifest). */
  deleted: string[];
  /** Abandoned `.partial` files (of crashed backup runs) that were removed. */
  sweptLeftovers: string[];
}

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** The newest this many are always kept. */
  keep: number;
  /** Every backup created less than this many days ago is kept too (backup.keepDays). */
  keepDays?: number;
}

export async function applyRetentionInDir(
  dir: string,
  policy: RetentionPolicy,
  protect: string[],
  logger: Logger,
  now = Date.now(),
): Promise<RetentionOutcome> {
  const { keep, keepDays } = policy;
  if (!Number.isInteger(keep) || keep < 1) throw new BadInputError(`keep must be a whole number ≥ 1 (got ${keep})`);
  if (keepDays !== undefined && !(keepDays > 0)) throw new BadInputError(`keepDays must be a positive number of days (got ${keepDays})`);
  const backups = await listManifests(dir, (file, why) => logger.warn({ file, why }, 'backup manifest skipped by retention'));

  // The manifest's createdAt is the backup's age (the file name's stamp says the same).
  const young = keepDays === undefined ? [] : backups.filter((m) => now - Date.parse(m.createdAt) < keepDays * DAY_MS);
  const kept = new Set([...backups.slice(0, keep).map((m) => m.file), ...young.map((m) => m.file), ...protect]);
  const newestVerified = await findNewestVerified(dir, backups);
  if (newestVerified) kept.add(newestVerified.file);

  const deleted: string[] = [];
  for (const manifest of backups) {
    if (kept.has(manifest.file)) continue;
    const paths = backupPaths(dir, manifest.file);
    // Dump first: a crash in between leaves a small manifest of a missing dump (never
    // listed, harmless) rather than a big unlisted dump that nothing would clean up.
    await rm(paths.dump, { force: true });
    await rm(paths.manifest, { force: true });
    deleted.push(manifest.file);
  }
  const sweptLeftovers = await sweepLeftovers(dir, now);
  if (deleted.length || sweptLeftovers.length) logger.info({ dir, deleted, sweptLeftovers }, 'retention applied');
  return { deleted, sweptLeftovers };
}

async function findNewestVerified(dir: string, newestFirst: BackupManifest[]): Promise<BackupManifest | undefined> {
  for (const manifest of newestFirst) {
    // A backup this worker just took and hashed is not read again (see matchesManifest).
    if (await matchesManifest(path.join(dir, manifest.file), manifest, { trustRecentDigest: true })) return manifest;
  }
  return undefined;
}

async function sweepLeftovers(dir: string, now: number): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('.') || !name.endsWith('.partial')) continue;
    const full = path.join(dir, name);
    const mtime = await lastWritten(full);
    if (mtime !== undefined && now - mtime > STALE_PARTIAL_MS) {
      await rm(full, { recursive: true, force: true });
      swept.push(name);
    }
  }
  return swept;
}

/** When a partial file was last written; for a partial directory (pg_dump -Fd's, of
 * backup.format directory) the newest of its files, which pg_dump's jobs keep writing. */
async function lastWritten(full: string): Promise<number | undefined> {
  const st = await stat(full).catch(() => undefined);
  if (!st?.isDirectory()) return st?.mtimeMs;
  const inside = await readdir(full).catch(() => [] as string[]);
  const times = await Promise.all(
    inside.map((n) =>
      stat(path.join(full, n)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  return Math.max(st.mtimeMs, ...times);
}
