// Point-in-time recovery into a NEW data directory beside the live one, never over it:
//   <dataDir>.restore-<stamp>           pgbackrest restore writes here; `.restored` marks it complete
//   <dataDir>.restore-<stamp>.verified  written once the copy started, reached its target and was read
//   <dataDir>.pre-restore-<stamp>       the live directory, renamed aside by the swap (undo: rename back)
// Each step checks these names before acting, so a step run twice (a worker killed mid-way)
// redoes an incomplete copy from scratch and never lets an unverified one take the live
// directory's place.
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError } from '../../domain/errors';
import { describeTarget, planRestore, type PgbackrestConfig, type PitrPlan, type RestoreTarget } from '../../domain/pgbackrest';
import { writeFileAtomic } from '../../lib/atomic-file';
import { beat } from '../shared/heartbeat';
import { databaseTargetOf, withClient, withDatabase } from '../shared/pg-connection';
import { freeLoopbackPort } from '../../lib/scratch-cluster';
import { tableRowCounts } from '../shared/table-checksums';
import { archiveCurrentWal, archivingHealth } from './archiving';
import { clusterRunning, inspectCluster, startClusterAsBefore, startClusterPrivately, stopCluster, serverLogOf } from './cluster';
import { repoState } from './info';
import { clusterOwner, pgbackrest } from './run';

export const restoreDirsOf = (c: PgbackrestConfig, stamp: string) => ({
  newDir: `${c.dataDir}.restore-${stamp}`,
  keepAs: `${c.dataDir}.pre-restore-${stamp}`,
});
const restoredMarker = (dir: string) => `${dir}.restored`;
const verifiedMarker = (dir: string) => `${dir}.verified`;

/** Refuses a target no backup can reach, or a failing archiver; otherwise says exactly what
 * is lost. Archives the current WAL first so a target up to now is in the repository. */
export async function planPitr(d: DeploymentConfig, c: PgbackrestConfig, target: RestoreTarget): Promise<PitrPlan> {
  await inspectCluster(d, c);
  const health = await archivingHealth(d);
  if (!health.ok)
    throw new BadInputError(
      `cannot restore ${describeTarget(target)}: ${health.detail}`,
      'fix archiving first (day2 preflight); nothing was changed',
    );
  if (target.kind === 'time' && Date.parse(target.time) > Date.now()) {
    throw new BadInputError(`${target.time} is in the future: nothing to restore to yet`, 'nothing was changed');
  }
  const archived = await archiveCurrentWal(d, Math.max(60, c.archiveTimeout));
  const { backups } = await repoState(c);
  // `--latest` is "everything archived until now": the LSN just archived, as a target.
  const effective: RestoreTarget = target.kind === 'latest' ? { kind: 'lsn', lsn: archived.lsn } : target;
  const plan = planRestore(effective, backups, archived);
  if (!plan.ok) throw new BadInputError(`cannot restore ${describeTarget(target)}: ${plan.why}`, 'nothing was changed');
  const loses =
    target.kind === 'latest'
      ? `nothing committed before ${archived.at} (the last archived WAL, LSN ${archived.lsn}); transactions still open are lost`
      : target.kind === 'time'
        ? `every transaction committed after ${target.time} (until now, ${archived.at}: ${Math.round((Date.parse(archived.at) - Date.parse(target.time)) / 1000)} s of writes)`
        : `every transaction after LSN ${target.lsn} (until ${archived.lsn}, ${archived.at})`;
  return { backup: plan.backup, args: plan.args, archivedUntil: archived.at, loses };
}

/** pgbackrest restore of the plan into `newDir` (set to promote on reaching the target). An
 * incomplete earlier attempt is removed first; a complete one is reused. */
export async function restoreIntoNewDir(c: PgbackrestConfig, plan: Pick<PitrPlan, 'args'>, newDir: string): Promise<{ reused: boolean }> {
  if (existsSync(restoredMarker(newDir)) && existsSync(newDir)) return { reused: true };
  rmSync(newDir, { recursive: true, force: true });
  const owner = clusterOwner(c.dataDir);
  mkdirSync(newDir, { mode: 0o700 });
  if (owner.uid !== undefined) chownSync(newDir, owner.uid, owner.gid!);
  beat({ pgbackrest: `restoring into ${newDir}` });
  await pgbackrest(c, 'restore', [`--pg1-path=${newDir}`, ...plan.args, '--target-action=promote']);
  await writeFileAtomic(restoredMarker(newDir), `${new Date().toISOString()}\n`);
  return { reused: false };
}

/** Starts the restored copy on a private port, paused at its target (not promoted, WAL
 * archiving off: it writes nothing to the repository), reads every table's pages and counts
 * its rows, and stops it. There is no reference to compare a point in time with, so the
 * full checksums (a sort of every row: most of a restore's time at 750 MB) are the drill's
 * evidence, not the restore's gate. The result is kept beside the copy so a retry does not start it again. */
export async function verifyRestoredDir(d: DeploymentConfig, c: PgbackrestConfig, newDir: string): Promise<Record<string, string>> {
  const marker = verifiedMarker(newDir);
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as Record<string, string>;
  if (!existsSync(restoredMarker(newDir))) throw new Error(`${newDir} is not a complete restore (no ${restoredMarker(newDir)})`);
  const { adminUrl, liveName } = await databaseTargetOf(d);
  await stopCluster(newDir); // a crashed attempt may have left it running
  const port = await freeLoopbackPort();
  const log = `${newDir}.log`;
  await startClusterPrivately(newDir, port, path.dirname(c.dataDir), log, ['-c recovery_target_action=pause', '-c hot_standby=on']);
  try {
    const u = new URL(adminUrl);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    const scratchAdmin = u.toString();
    await waitUntilPausedAtTarget(scratchAdmin, newDir, log);
    beat({ pgbackrest: 'reading every table of the restored copy' });
    const sums = await tableRowCounts(withDatabase(scratchAdmin, liveName));
    await writeFileAtomic(marker, JSON.stringify(sums));
    return sums;
  } finally {
    await stopCluster(newDir);
  }
}

export async function waitUntilPausedAtTarget(url: string, dir: string, log: string): Promise<void> {
  const deadline = Date.now() + 6 * 3600_000;
  for (;;) {
    if (!(await clusterRunning(dir))) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
      throw new BadInputError(
        `the restored copy stopped before reaching its target: ${tail}`,
        'the repository lacks the WAL to reach it; the live data directory was not touched',
      );
    }
    const state = await withClient(
      url,
      async (client) => (await client.query<{ s: string }>('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0]!.s,
    ).catch(() => 'starting');
    if (state === 'paused') return;
    if (Date.now() > deadline) throw new Error(`the restored copy did not reach its target within 6 h`);
    beat({ pgbackrest: 'replaying WAL to the target' });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Removes a restored copy that will not be swapped in (rejected, failed its check); its
 * server log stays unless `withLog` (it says why a copy did not start). */
export async function discardNewDir(newDir: string, withLog = false): Promise<void> {
  if (existsSync(newDir)) await stopCluster(newDir);
  for (const p of [newDir, restoredMarker(newDir), verifiedMarker(newDir), ...(withLog ? [`${newDir}.log`] : [])])
    rmSync(p, { recursive: true, force: true });
}

/** The live cluster stopped (a no-op once it is). */
export async function stopLiveCluster(c: PgbackrestConfig): Promise<void> {
  await stopCluster(c.dataDir);
}

/** Renames live → keepAs and the verified copy → live. Resumable at any point: after the
 * first rename the second is finished; a copy that was never verified is refused. */
export async function swapInNewDir(c: PgbackrestConfig, newDir: string, keepAs: string): Promise<{ keptAs: string; already: boolean }> {
  const live = c.dataDir;
  if (!existsSync(newDir) && existsSync(keepAs) && existsSync(live)) return { keptAs: keepAs, already: true };
  if (!existsSync(verifiedMarker(newDir)) || !existsSync(newDir)) {
    throw new Error(
      `refusing to swap in ${newDir}: it is not a verified restore (no ${verifiedMarker(newDir)}); the live data directory is untouched`,
    );
  }
  if (existsSync(live)) {
    if (existsSync(keepAs))
      throw new Error(`both ${live} and ${keepAs} exist: refusing to swap; look at both and remove the one that is not wanted`);
    if (await clusterRunning(live)) throw new Error(`${live} still runs: stop it before the swap`);
    renameSync(live, keepAs);
  }
  // PostgreSQL's options (port, socket, -c settings) as the live cluster last ran with
  // them — replacing those of the copy's private verification start.
  const opts = path.join(keepAs, 'postmaster.opts');
  if (existsSync(opts)) copyFileSync(opts, path.join(newDir, 'postmaster.opts'));
  const owner = clusterOwner(keepAs);
  if (owner.uid !== undefined && existsSync(path.join(newDir, 'postmaster.opts')))
    chownSync(path.join(newDir, 'postmaster.opts'), owner.uid, owner.gid!);
  pointRestoreCommandAtLive(newDir, live);
  renameSync(newDir, live);
  for (const p of [restoredMarker(newDir), verifiedMarker(newDir)]) rmSync(p, { force: true });
  return { keptAs: keepAs, already: false };
}

/** pgBackRest wrote `--pg1-path=<newDir>` into restore_command; once renamed the copy is
 * at the live path, which the stanza's config already names. */
function pointRestoreCommandAtLive(newDir: string, live: string): void {
  const conf = path.join(newDir, 'postgresql.auto.conf');
  const text = readFileSync(conf, 'utf8');
  const fixed = text.split(`--pg1-path=${newDir} `).join(`--pg1-path=${live} `);
  if (fixed !== text) writeFileSync(conf, fixed);
}

/** Starts the swapped-in cluster as the live one ran; it replays to the target and promotes
 * (a new timeline, archived from then on). Returns once it accepts writes. */
export async function startLiveAndWaitPromoted(d: DeploymentConfig, c: PgbackrestConfig): Promise<{ promotedAfterMs: number }> {
  const started = Date.now();
  await startClusterAsBefore(c.dataDir, serverLogOf(c));
  const { adminUrl } = await databaseTargetOf(d);
  const deadline = Date.now() + 6 * 3600_000;
  for (;;) {
    const inRecovery = await withClient(
      adminUrl,
      async (cl) => (await cl.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r,
    ).catch(() => true);
    if (!inRecovery) return { promotedAfterMs: Date.now() - started };
    if (!(await clusterRunning(c.dataDir))) throw new Error(`the restored cluster stopped while recovering: see ${serverLogOf(c)}`);
    if (Date.now() > deadline) throw new Error('the restored cluster did not finish recovery within 6 h');
    beat({ pgbackrest: 'waiting for promotion' });
    await new Promise((r) => setTimeout(r, 100));
  }
}
