// backup.method pgbackrest end to end: a real PostgreSQL cluster that day2 configures for
// WAL archiving (behind the restart-for-archiving gate), real pgBackRest with its
// repository in a temp directory, the CLI and a worker. Point-in-time recovery brings back
// exactly the rows committed before the target; bad targets and broken archiving are
// refused with nothing changed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspectCluster } from '../../src/activities/pgbackrest/cluster';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import type { PgbackrestBackupResult, PitrRestoreResult } from '../../src/domain/pgbackrest';
import { startPgbackrestE2E, type PgbackrestE2E } from '../harness/pgbackrest';

const NAME = 'pgbr';
let e2e: PgbackrestE2E;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = <T>(stdout: string) => JSON.parse(stdout) as { result: T; error?: string };
/** Rows committed, then a moment that is strictly after them and before anything later. */
async function writeRows(tag: string, n: number): Promise<void> {
  await e2e.sql(`INSERT INTO pitr_marks (tag, n) SELECT $1, g FROM generate_series(1, $2::int) g`, [tag, n]);
}
async function pointInTime(): Promise<{ at: string; sums: Record<string, string> }> {
  await sleep(1100);
  const at = new Date().toISOString();
  const sums = await tableChecksums(e2e.dbUrl);
  await sleep(1100);
  return { at, sums };
}
const dataDirSiblings = () =>
  readdirSync(path.dirname(e2e.pgbr.dataDir))
    .filter((f) => f.startsWith(`${path.basename(e2e.pgbr.dataDir)}.`))
    .sort();

describe('backup.method pgbackrest', { timeout: 600_000 }, () => {
  before(async () => {
    e2e = await startPgbackrestE2E(NAME);
    await e2e.startWorker();
    await e2e.startService(5);
    await e2e.sql(
      'CREATE TABLE pitr_marks (id serial PRIMARY KEY, tag text NOT NULL, n int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())',
    );
  });
  after(async () => e2e?.teardown());

  it('the first backup sets archive_mode/archive_command, waits at restart-for-archiving, then takes a full backup', async () => {
    const started = await e2e.cli('backup', '--type', 'full');
    assert.equal(started.exitCode, 4, started.stdout + started.stderr);
    assert.match(started.stdout, /--gate restart-for-archiving/);
    const approved = await e2e.cli('approve', e2e.workflowId, '--gate', 'restart-for-archiving', '--reason', 'test');
    assert.equal(approved.exitCode, 0, approved.stderr);
    const followed = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    assert.equal(followed.exitCode, 0, followed.stdout + followed.stderr);
    const { backups } = await e2e.repo();
    assert.equal(backups.length, 1);
    assert.equal(backups[0]!.type, 'full');
    assert.ok(backups[0]!.annotations['day2-run'], 'annotated with the run');
    const [mode] = await e2e.sql<{ archive_mode: string }>('SHOW archive_mode');
    assert.equal(mode!.archive_mode, 'on');
  });

  it('--to-time restores exactly the rows committed before that time (per-table checksums equal)', async () => {
    await writeRows('before', 3);
    const t = await pointInTime();
    await writeRows('after', 4);
    const r = await e2e.cli('--json', 'restore', '--to-time', t.at, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = json<PitrRestoreResult>(r.stdout).result;
    assert.equal(result.outcome, 'restored');
    assert.deepEqual(await tableChecksums(e2e.dbUrl), t.sums);
    assert.deepEqual(await e2e.sql('SELECT tag, count(*)::int AS c FROM pitr_marks GROUP BY tag'), [{ tag: 'before', c: 3 }]);
    assert.ok(result.keptAs && existsSync(result.keptAs), 'the previous data directory is kept');
    assert.ok(!existsSync(path.join(e2e.pgbr.dataDir, 'recovery.signal')), 'promoted');
    // The restored cluster archives on its new timeline.
    const health = await e2e.cli('--json', 'backup', '--type', 'incr', '--yes');
    assert.equal(health.exitCode, 0, health.stdout + health.stderr);
  });

  it('an incremental after the full restores: a target after it is reached from the incremental', async () => {
    await writeRows('incr', 2);
    const b = await e2e.cli('--json', 'backup', '--type', 'incr', '--yes');
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    const incr = json<PgbackrestBackupResult>(b.stdout).result.backup!;
    assert.equal(incr.type, 'incr');
    assert.ok(incr.prior, 'builds on a prior backup');
    await writeRows('incr-after', 1);
    const t = await pointInTime();
    await writeRows('lost', 5);
    const r = await e2e.cli('--json', 'restore', '--to-time', t.at, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(json<PitrRestoreResult>(r.stdout).result.backup, incr.label);
    assert.deepEqual(await tableChecksums(e2e.dbUrl), t.sums);
  });

  it('day2 drill restores to a point into a scratch directory and checks it; production untouched', async () => {
    const siblings = dataDirSiblings();
    const r = await e2e.cli('--json', 'drill');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /restored to the target/);
    assert.deepEqual(dataDirSiblings(), siblings);
    const pf = await e2e.cli('preflight');
    assert.match(pf.stdout + pf.stderr, /WAL archiving healthy/);
    assert.match(pf.stdout + pf.stderr, /recovery point \(RPO\).*\d+ s since the last archived segment/);
  });

  it('refuses, changing nothing: a target before the oldest backup, in the future, a server day2 may not configure', async () => {
    const before = { sums: await tableChecksums(e2e.dbUrl), siblings: dataDirSiblings(), backups: (await e2e.repo()).backups.length };
    const early = await e2e.cli('--json', 'restore', '--to-time', '2020-01-01T00:00:00Z', '--yes');
    assert.equal(early.exitCode, 2, early.stdout + early.stderr);
    assert.match(early.stdout + early.stderr, /before the oldest backup/);
    const future = await e2e.cli('restore', '--to-time', new Date(Date.now() + 3600_000).toISOString(), '--yes');
    assert.equal(future.exitCode, 2, future.stdout + future.stderr);
    assert.match(future.stderr, /in the future/);
    const dump = await e2e.cli('restore', '--to-lsn', 'nonsense', '--yes');
    assert.equal(dump.exitCode, 2);
    const d = e2e.config.deployments[NAME]!;
    await assert.rejects(
      inspectCluster(d, { ...e2e.pgbr, dataDir: '/nonexistent/data' }),
      /not a PostgreSQL data directory on the worker's host.*pg_dump/,
    );
    // A login that is not a superuser (as a managed service gives): may not ALTER SYSTEM.
    await e2e.sql("CREATE ROLE pgbr_app LOGIN PASSWORD 'app'");
    const envFile = path.join(e2e.dir, 'app.env');
    const u = new URL(e2e.dbUrl);
    u.username = 'pgbr_app';
    u.password = 'app';
    writeFileSync(envFile, `DATABASE_URL=${u}\n`);
    await assert.rejects(inspectCluster({ ...d, envFile, migrationUrlVar: 'NONE' }, e2e.pgbr), /not a superuser.*a superuser login/);
    assert.deepEqual(
      { sums: await tableChecksums(e2e.dbUrl), siblings: dataDirSiblings(), backups: (await e2e.repo()).backups.length },
      before,
    );
  });

  it('retention: a third full backup expires the oldest full and what depends on it, never the newest', async () => {
    for (let i = 0; i < 2; i++) {
      const b = await e2e.cli('--json', 'backup', '--type', 'full', '--yes');
      assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    }
    const { backups } = await e2e.repo();
    const fulls = backups.filter((b) => b.type === 'full');
    assert.equal(fulls.length, 2, JSON.stringify(backups.map((b) => b.label)));
    assert.equal(backups.length, 2, 'the first full and its incrementals are gone');
  });

  it('a backup schedule takes pgBackRest backups', async () => {
    const before = (await e2e.repo()).backups.map((b) => b.label);
    const created = await e2e.cli('schedule', 'backup', '--every', '24h', '--name', 'pgbr-daily');
    assert.equal(created.exitCode, 0, created.stdout + created.stderr);
    const triggered = await e2e.cli('schedule', 'trigger', 'pgbr-daily');
    assert.equal(triggered.exitCode, 0, triggered.stdout + triggered.stderr);
    let after: string[] = before;
    for (let i = 0; i < 150 && !after.some((l) => !before.includes(l)); i++) {
      await sleep(400);
      after = (await e2e.repo()).backups.map((b) => b.label);
    }
    assert.ok(
      after.some((l) => !before.includes(l)),
      `a new backup in the repository: ${after.join(', ')}`,
    );
    await e2e.cli('schedule', 'remove', 'pgbr-daily');
  });

  it('broken archiving (archive_command failing) is refused by backup and restore, nothing changed', async () => {
    const archiveDir = path.join(e2e.pgbr.repoPath, 'archive', NAME);
    renameSync(archiveDir, `${archiveDir}.away`);
    try {
      await writeRows('unarchived', 1);
      await e2e.sql('SELECT pg_switch_wal()');
      for (let i = 0; i < 100; i++) {
        const [s] = await e2e.sql<{ failed: number }>(
          "SELECT failed_count::int AS failed FROM pg_stat_archiver WHERE last_failed_time > coalesce(last_archived_time, '-infinity')",
        );
        if (s) break;
        await sleep(200);
      }
      const before = { siblings: dataDirSiblings(), backups: (await e2e.repo().catch(() => ({ backups: [] }))).backups.length };
      const b = await e2e.cli('backup', '--yes');
      assert.equal(b.exitCode, 2, b.stdout + b.stderr);
      assert.match(b.stdout + b.stderr, /WAL archiving is failing/);
      const r = await e2e.cli('restore', '--latest', '--yes');
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /WAL archiving is failing/);
      assert.deepEqual(dataDirSiblings(), before.siblings);
      const pf = await e2e.cli('preflight');
      assert.notEqual(pf.exitCode, 0);
      assert.match(pf.stdout + pf.stderr, /WAL archiving is failing/);
    } finally {
      renameSync(`${archiveDir}.away`, archiveDir);
    }
  });
});
