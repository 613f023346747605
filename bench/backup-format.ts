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
  const deployment = (compression?: number | string) => ({
    runtime: { kind: 'commands', start: 'true', stop: 'true' },
    envFile: 'dirbench.env',
    health: { ready: 'http://127.0.0.1:1/health/ready' },
    backup: {
      dir: `backups-dirbench${compression === undefined ? '6' : ''}`,
      format: 'directory',
      jobs,
      ...(compression === undefined ? {} : { compression }),
    },
  });
  // dirbench6: the same with pg_dump's default compression (gzip 6, as the runbook's -Fc),
  // to tell what -j and one file instead of tar czf gain from what the level gains.
  const config = parseConfig(
    {
      deployments: {
        dirbench: deployment(/^\d$/.test(compression) ? Number(compression) : compression),
        dirbench6: deployment(),
      },
    },
    ctx.work,
    'bench config',
  );
  const acts = databaseActivities(activityDeps({ config, logger: createLogger('bench', process.env.DAY2_BENCH_LOG ?? 'warn') }));
  const runbookDir = path.join(ctx.work, 'runbook-backups');
  const { dbname, env } = libpqArgs(url);
  mkdirSync(runbookDir, { recursive: true, mode: 0o700 });

  const day2 = async (i: number, deployment: 'dirbench' | 'dirbench6') => {
    const fileName = `${deployment}-${i}.dump`;
    const t0 = now();
    const { manifest } = await acts.createBackup({
      deployment,
      fileName,
      workflowId: 'day2-bench',
      runId: `bench-dir-${i}`,
      createdAt: new Date().toISOString(),
    });
    const ms = now() - t0;
    if (manifest.format !== 'directory') throw new Error(`day2 run ${i}: the manifest says format ${manifest.format}`);
    if (i === 1) await acts.verifyBackup({ deployment, file: fileName }); // not timed: it reads back
    const dir = path.join(ctx.work, `backups-${deployment}`);
    rmSync(path.join(dir, fileName), { force: true });
    rmSync(path.join(dir, `${fileName}.manifest.json`), { force: true });
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

  const kinds = ['day2', 'day2default', 'runbook'] as const;
  type Kind = (typeof kinds)[number];
  const times: Record<Kind, number[]> = { day2: [], day2default: [], runbook: [] };
  const bytes: Record<Kind, number> = { day2: 0, day2default: 0, runbook: 0 };
  const runOne = (kind: Kind, i: number) => (kind === 'runbook' ? runbook(i) : day2(i, kind === 'day2' ? 'dirbench' : 'dirbench6'));
  for (let i = 1; i <= ctx.runs; i++) {
    // Each run starts with a different one of the three, so load drifts hit all alike.
    const order = [...kinds.slice((i - 1) % 3), ...kinds.slice(0, (i - 1) % 3)];
    for (const kind of order) {
      const r = await runOne(kind, i);
      times[kind].push(r.ms);
      bytes[kind] = r.bytes;
    }
    ctx.log(
      `  run ${i}  day2 directory ${secs(times.day2.at(-1)!).padStart(8)}  (default compression ${secs(times.day2default.at(-1)!).padStart(8)})  runbook ${secs(times.runbook.at(-1)!).padStart(8)}`,
    );
  }
  const m = Object.fromEntries(kinds.map((k) => [k, median(times[k])])) as Record<Kind, number>;
  const rows: Array<[string, number, number]> = [
    [`day2 createBackup, format directory, jobs ${jobs}, compression ${compression}`, m.day2, bytes.day2],
    [`day2 createBackup, format directory, jobs ${jobs}, default compression`, m.day2default, bytes.day2default],
    ['seed runbook: pg_dump -Fc + tar czf', m.runbook, bytes.runbook],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  ctx.log('');
  ctx.log(`Backup of ${mb(size)} (pgbench scale ${pgbenchScale} shape), median of ${ctx.runs} run${ctx.runs === 1 ? '' : 's'} each:`);
  for (const [what, ms, b] of rows) ctx.log(`  ${what.padEnd(width)}  ${secs(ms).padStart(9)}  ${mb(b).padStart(9)}`);
  ctx.log(
    `  RATIO backup day2 directory / runbook: ${(m.day2 / m.runbook).toFixed(2)}  goal ≤ 0.6 (at pgbench scale 50: DAY2_BENCH_SCALE=10)`,
  );
  ctx.log(`  RATIO backup day2 directory, default compression / runbook: ${(m.day2default / m.runbook).toFixed(2)}`);
}
