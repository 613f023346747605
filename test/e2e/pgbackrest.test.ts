// backup.method pgbackrest end to end: a real PostgreSQL cluster that day2 configures for
// WAL archiving (behind the restart-for-archiving gate), real pgBackRest with its
// repository in a temp directory, the CLI and a worker. Point-in-time recovery brings back
// exactly the rows committed before the target; bad targets and broken archiving are
// refused with nothing changed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspectCluster } from '../../src/activities/pgbackrest/cluster';
import { configFileOf } from '../../src/activities/pgbackrest/run';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { postgresOsUser, startScratchCluster } from '../../src/lib/scratch-cluster';
import { execa } from 'execa';
import type { PgbackrestBackupResult, PitrRestoreResult, PreUpgradePoint } from '../../src/domain/pgbackrest';
import type { RollbackResult, UpgradeResult } from '../../src/domain/release-types';
import { startPgbackrestE2E, type PgbackrestE2E } from '../harness/pgbackrest';
import { fileVersions, serviceState, setReadyTimeout, waitForStep } from '../harness/upgrade-helpers';
import YAML from 'yaml';

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

/** After the broken-archiving test: a WAL switch wakes the archiver, whose next push succeeds. */
async function archivingHealthyAgain(): Promise<void> {
  await e2e.sql('SELECT pg_switch_wal()');
  for (let i = 0; i < 300; i++) {
    const [s] = await e2e.sql<{ ok: boolean }>(
      "SELECT coalesce(last_archived_time > coalesce(last_failed_time, '-infinity'), false) AS ok FROM pg_stat_archiver",
    );
    if (s?.ok) return;
    await sleep(200);
  }
  throw new Error('archiving did not recover');
}

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

  it('a repository whose stanza belongs to another cluster is refused before archiving is pointed at it', async () => {
    const other = await startScratchCluster(path.join(e2e.dir, 'other-cluster'));
    const file = e2e.deployment.configFile;
    const original = readFileSync(file, 'utf8');
    try {
      // A real stanza of the same name, made by pgBackRest for another cluster.
      const otherRepo = path.join(other.dir, 'repo');
      const conf = path.join(other.dir, 'pgbackrest.conf');
      writeFileSync(
        conf,
        `[global]\nrepo1-path=${otherRepo}\nlock-path=${other.dir}/lock\nlog-level-file=off\n[${NAME}]\npg1-path=${other.dir}/data\npg1-port=${other.port}\npg1-socket-path=${other.dir}\n`,
      );
      const owner = await postgresOsUser();
      await execa('pgbackrest', [`--config=${conf}`, `--stanza=${NAME}`, 'stanza-create'], { ...owner, cwd: '/' });

      const state = async () => ({
        command: (await e2e.sql<{ archive_command: string }>('SHOW archive_command'))[0]!.archive_command,
        conf: readFileSync(configFileOf(e2e.pgbr), 'utf8'),
        siblings: dataDirSiblings(),
      });
      const before = await state();
      const config = YAML.parse(original);
      config.deployments[NAME].backup.pgbackrest.repoPath = otherRepo;
      writeFileSync(file, YAML.stringify(config));
      const b = await e2e.cli('backup', '--yes');
      assert.equal(b.exitCode, 2, b.stdout + b.stderr);
      assert.match(
        b.stdout + b.stderr,
        /stanza 'pgbr' in .* belongs to another PostgreSQL cluster \(system identifier \d+; this cluster's is \d+\)/,
      );
      assert.deepEqual(await state(), before, 'archiving still goes to the old repository');
    } finally {
      writeFileSync(file, original);
      await other.remove();
    }
  });

  it('an upgrade marks a recovery point after the worker stops; its failure rolls back to exactly that point, not to the backup', async () => {
    // Hold the worker's stop so rows can be written after the pre-upgrade backup and before
    // the point: a rollback to the backup would lose them, one to the point keeps them.
    const hold = path.join(e2e.dir, 'hold-stop-worker');
    const file = e2e.deployment.configFile;
    const config = YAML.parse(readFileSync(file, 'utf8'));
    const runtime = config.deployments[NAME].runtime;
    runtime.stopWorker = `while [ -e '${hold}' ]; do sleep 0.1; done; ${runtime.stopWorker}`;
    writeFileSync(file, YAML.stringify(config));
    setReadyTimeout(e2e, 5);
    await archivingHealthyAgain();
    const labelsBefore = (await e2e.repo()).backups.map((b) => b.label);
    const dumps = () =>
      existsSync(e2e.deployment.backupDir) ? readdirSync(e2e.deployment.backupDir).filter((f) => f.endsWith('.dump')) : [];
    const dumpsBefore = dumps();

    writeFileSync(hold, '');
    const started = await e2e.cli('upgrade', '1.3.0', '--yes', '--detach');
    assert.equal(started.exitCode, 0, started.stdout + started.stderr);
    await waitForStep(e2e, 'Stop worker', 'running', 120_000);
    await writeRows('after-backup-before-migration', 3);
    const atThePoint = await tableChecksums(e2e.dbUrl);
    rmSync(hold);
    const followed = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    const result = json<UpgradeResult>(followed.stdout).result;
    assert.equal(result.outcome, 'rolled-back', followed.stdout + followed.stderr);

    const point = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, '.pre-upgrade-point.json'), 'utf8')) as PreUpgradePoint;
    const pre = (await e2e.repo()).backups.find((b) => !labelsBefore.includes(b.label));
    assert.ok(pre, 'the pre-upgrade backup is a pgBackRest backup');
    assert.equal(point.backupLabel, pre.label);
    assert.equal(point.version, '1.0.0');
    assert.match(result.backup ?? '', new RegExp(`LSN ${point.lsn}`));
    assert.equal(result.rollback?.version, '1.0.0');
    assert.deepEqual(await tableChecksums(e2e.dbUrl), atThePoint, 'exactly the data at the point: 1.3.0 migrated nothing that stayed');
    assert.deepEqual(
      await e2e.sql("SELECT count(*)::int AS c FROM pitr_marks WHERE tag = 'after-backup-before-migration'"),
      [{ c: 3 }],
      'rows written after the backup are kept',
    );
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(dumps(), dumpsBefore, 'no pg_dump taken');

    // By hand: `day2 rollback` finds the same point; a dump file is refused for this method.
    const byFile = await e2e.cli('rollback', '--backup', 'x.dump', '--yes');
    assert.equal(byFile.exitCode, 2, byFile.stdout + byFile.stderr);
    assert.match(byFile.stderr, /recovers the cluster to a point, not a dump file/);
    await e2e.sql("INSERT INTO pitr_marks (tag, n) VALUES ('after-rollback', 1)");
    for (const args of [[], ['--to-lsn', point.lsn, '--version', '1.0.0']]) {
      const r = await e2e.cli('--json', 'rollback', '--yes', ...args);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const rb = json<RollbackResult>(r.stdout).result;
      assert.equal(rb.outcome, 'rolled-back');
      assert.equal(rb.version, '1.0.0');
      assert.match(rb.backup, new RegExp(`LSN ${point.lsn}`));
      assert.deepEqual(await tableChecksums(e2e.dbUrl), atThePoint, `day2 rollback ${args.join(' ')}: the data at the point again`);
    }
  });
});
