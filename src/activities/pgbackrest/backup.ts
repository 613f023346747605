// pgBackRest's stanza, check, backup and expire. The backup carries the workflow run in an
// annotation (day2-run=<runId>): a retry — after a worker was killed mid-backup, say —
// first waits for a backup still running (its pgbackrest outlives the worker) and then
// looks for that annotation, so one run makes one backup.
import type { PgbackrestBackup, PgbackrestBackupType, PgbackrestConfig } from '../../domain/pgbackrest';
import { beat } from '../shared/heartbeat';
import { repoWhere } from './archiving';
import { repoState } from './info';
import { pgbackrest } from './run';

export const RUN_ANNOTATION = 'day2-run';

/** stanza-create (a no-op when it exists and matches) and check (archives one segment and
 * finds it in the repository: proves archive_command works end to end). */
export async function createStanzaAndCheck(c: PgbackrestConfig, force: boolean): Promise<string> {
  // Once the stanza holds a backup and nothing changed, every backup's own archive check
  // (it waits for its WAL to reach the repository) proves the same, without a WAL switch.
  const state = await repoState(c).catch(() => undefined);
  if (!force && state && state.backups.length > 0)
    return `stanza ${c.stanza} holds ${state.backups.length} backups; the backup checks archiving itself`;
  await pgbackrest(c, 'stanza-create');
  await pgbackrest(c, 'check');
  return `stanza ${c.stanza} ready; check archived a WAL segment into ${repoWhere(c)}`;
}

async function waitWhileBackupRuns(c: PgbackrestConfig): Promise<PgbackrestBackup[]> {
  for (;;) {
    const state = await repoState(c);
    if (!state.backupRunning) return state.backups;
    beat({ pgbackrest: 'waiting for a running backup to finish' });
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `expired`: what the backup's own expire (pgBackRest runs one after every backup, by
 * repo1-retention-full) removed, seen as labels gone between before and after. */
export async function takeBackup(
  c: PgbackrestConfig,
  runId: string,
  type: PgbackrestBackupType,
): Promise<{ backup: PgbackrestBackup; reused: boolean; expired: string[] }> {
  const find = (backups: PgbackrestBackup[]) => backups.find((b) => b.annotations[RUN_ANNOTATION] === runId);
  const before = await waitWhileBackupRuns(c);
  const made = find(before);
  if (made) return { backup: made, reused: true, expired: [] };
  // pgBackRest turns diff/incr into full when there is no full to build on.
  await pgbackrest(c, 'backup', [`--type=${type}`, `--annotation=${RUN_ANNOTATION}=${runId}`]);
  const after = await waitWhileBackupRuns(c);
  const backup = find(after);
  if (!backup)
    throw new Error(`pgbackrest backup reported success, but no backup annotated ${RUN_ANNOTATION}=${runId} is in the repository`);
  const kept = new Set(after.map((b) => b.label));
  return { backup, reused: false, expired: before.map((b) => b.label).filter((l) => !kept.has(l)) };
}

/** Applies repo1-retention-full: the labels removed (WAL no remaining backup needs goes too). */
export async function expireBackups(c: PgbackrestConfig): Promise<string[]> {
  const before = (await repoState(c)).backups.map((b) => b.label);
  await pgbackrest(c, 'expire');
  const after = new Set((await repoState(c)).backups.map((b) => b.label));
  return before.filter((l) => !after.has(l));
}
