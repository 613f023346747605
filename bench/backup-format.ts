// The backup row of `npm run bench`: day2's directory-format backup (createBackup with
// backup.format directory, jobs = the cores, compression DAY2_BENCH_COMPRESSION, default 1:
// pg_dump -Fd -j N -Z 1, pg_restore --list, packed into one tar hashed as written) against
// the seed runbook's backup.sh (pg_dump -Fc, then tar czf of the dump), on pgbench_accounts'
// shape with random filler (≈ pgbench scale 5 × DAY2_BENCH_SCALE: 100,000 accounts each).
// Runs alternate which goes first; medians; the ratio is printed, never asserted.
import { execa } from 'execa';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { databaseActivities } from '../src/activities/database';
import { activityDeps } from '../src/activities/shared/deps';
import { libpqArgs, quoteIdent, withClient } from '../src/activities/shared/pg-connection';
import { parseConfig } from '../src/config';
import { pgTool } from '../src/lib/pg-tools';
import { createLogger } from '../src/logger';

export interface BackupBenchContext {
  /** Superuser URL of the maintenance database. */
  adminUrl: string;
  work: string;
  runs: number;
  /** DAY2_BENCH_SCALE. */
  scale: number;
  /** Registers a teardown step (run in reverse on success, failure or Ctrl-C). */
  cleanup(what: string, run: () => Promise<void>): void;
  log(line: string): void;
}

const now = () => performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** pgbench's four tables at `pgbenchScale`, the accounts' filler random (pgbench's own is
 * blank and compresses 50:1, which would measure nothing but pg_dump's reading). */
async function seedPgbenchShape(url: string, pgbenchScale: number): Promise<void> {
  const accounts = Math.round(100_000 * pgbenchScale);
  const branches = Math.max(1, Math.round(pgbenchScale));
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88))`);
    await c.query(`CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, filler char(84))`);
    await c.query(`CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84))`);
    await c.query(`CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))`);
    await c.query(`INSERT INTO pgbench_branches SELECT g, 0 FROM generate_series(1, ${branches}) g`);
    await c.query(`INSERT INTO pgbench_tellers SELECT g, 1 + (g - 1) / 10, 0 FROM generate_series(1, ${branches * 10}) g`);
    await c.query(
      `INSERT INTO pgbench_accounts SELECT g, 1 + (g - 1) / 100000, 0, left(md5(random()::text) || md5(random()::text), 84)
         FROM generate_series(1, ${accounts}) g`,
    );
    await c.query('ANALYZE');
  });
}

export async function benchDirectoryBackup(ctx: BackupBenchContext): Promise<void> {
  const pgbenchScale = 5 * ctx.scale;
  const compression = process.env.DAY2_BENCH_COMPRESSION ?? '1';
  const jobs = os.availableParallelism();
  const dbName = `dirbench_${process.pid}`;
  await withClient(ctx.adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`));
  ctx.cleanup(`drop ${dbName}`, () =>
    withClient(ctx.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`)).then(() => undefined),
  );
  const u = new URL(ctx.adminUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const seeded = now();
  await seedPgbenchShape(url, pgbenchScale);
  const size = await withClient(url, async (c) => Number((await c.query(`SELECT pg_database_size(current_database()) AS s`)).rows[0].s));
  ctx.log('');
  ctx.log(`bench: backup row: pgbench scale ${pgbenchScale} shape, random filler, ${mb(size)} on disk (seeded in ${secs(now() - seeded)})`);

  writeFileSync(path.join(ctx.work, 'dirbench.env'), `DATABASE_URL=${url}\n`, { mode: 0o600 });
  const config = parseConfig(
    {
      deployments: {
        dirbench: {
          runtime: { kind: 'commands', start: 'true', stop: 'true' },
          envFile: 'dirbench.env',
          health: { ready: 'http://127.0.0.1:1/health/ready' },
          backup: {
            dir: 'backups-dirbench',
            format: 'directory',
            jobs,
            compression: /^\d$/.test(compression) ? Number(compression) : compression,
          },
        },
      },
    },
    ctx.work,
    'bench config',
  );
  const acts = databaseActivities(activityDeps({ config, logger: createLogger('bench', process.env.DAY2_BENCH_LOG ?? 'warn') }));
  const backupDir = path.join(ctx.work, 'backups-dirbench');
  const runbookDir = path.join(ctx.work, 'runbook-backups');
  const { dbname, env } = libpqArgs(url);
  mkdirSync(runbookDir, { recursive: true, mode: 0o700 });

  const day2 = async (i: number) => {
    const fileName = `dirbench-${i}.dump`;
    const t0 = now();
    const { manifest } = await acts.createBackup({
      deployment: 'dirbench',
      fileName,
      workflowId: 'day2-bench',
      runId: `bench-dir-${i}`,
      createdAt: new Date().toISOString(),
    });
    const ms = now() - t0;
    if (manifest.format !== 'directory') throw new Error(`day2 run ${i}: the manifest says format ${manifest.format}`);
    if (i === 1) await acts.verifyBackup({ deployment: 'dirbench', file: fileName }); // not timed: it reads back
    rmSync(path.join(backupDir, fileName), { force: true });
    rmSync(path.join(backupDir, `${fileName}.manifest.json`), { force: true });
    return { ms, bytes: manifest.sizeBytes };
  };
  const runbook = async (i: number) => {
    // backup.sh: pg_dump -Fc into a timestamped name, then tar czf of it, the dump removed.
    const dump = path.join(runbookDir, `backup-${i}.dump`);
    const archive = path.join(runbookDir, `backup-${i}.tar.gz`);
    const t0 = now();
    await execa(pgTool('pg_dump'), ['--no-password', `--dbname=${dbname}`, '-Fc', '-f', dump], { env });
    await execa('tar', ['czf', archive, '-C', runbookDir, path.basename(dump)]);
    rmSync(dump);
    const ms = now() - t0;
    const bytes = statSync(archive).size;
    rmSync(archive);
    return { ms, bytes };
  };

  const times = { day2: [] as number[], runbook: [] as number[] };
  const bytes = { day2: 0, runbook: 0 };
  for (let i = 1; i <= ctx.runs; i++) {
    const order = i % 2 ? (['day2', 'runbook'] as const) : (['runbook', 'day2'] as const);
    for (const which of order) {
      const r = which === 'day2' ? await day2(i) : await runbook(i);
      times[which].push(r.ms);
      bytes[which] = r.bytes;
    }
    ctx.log(`  run ${i}  day2 directory ${secs(times.day2.at(-1)!).padStart(9)}  runbook ${secs(times.runbook.at(-1)!).padStart(9)}`);
  }
  const day2Ms = median(times.day2);
  const runbookMs = median(times.runbook);
  ctx.log('');
  ctx.log(`Backup, median of ${ctx.runs} run${ctx.runs === 1 ? '' : 's'} each:`);
  ctx.log(
    `  day2 createBackup, format directory, jobs ${jobs}, compression ${compression}   ${secs(day2Ms).padStart(9)}  ${mb(bytes.day2)}`,
  );
  ctx.log(`  seed runbook: pg_dump -Fc + tar czf                         ${secs(runbookMs).padStart(9)}  ${mb(bytes.runbook)}`);
  ctx.log(
    `  RATIO backup day2 directory / runbook: ${(day2Ms / runbookMs).toFixed(2)}  goal ≤ 0.6 (at pgbench scale 50: DAY2_BENCH_SCALE=10)`,
  );
}
