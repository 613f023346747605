// `npm run bench`: what the two restore strategies cost, measured with the real database
// activities (src/activities/database/index.ts) against a private PostgreSQL cluster.
//
//   swap      stageRestore (pg_restore into a fresh database while the service still runs)
//             then swapInRestoredDatabase (live → keepAs, staging → live in one transaction).
//             Unavailable window: the swap only.
//   in-place  restoreInPlace, the fallback when the role may not create databases: a safety
//             dump of the live database, then pg_restore --clean --single-transaction into it.
//             Unavailable window: all of it.
//
// The "unavailable window" is the database part of what runs between the restore
// workflow's stopServices and startServices; stopping, starting and readiness come on top
// and are the same for both strategies. Each strategy runs DAY2_BENCH_RUNS times
// (default 3), interleaved, and the median is reported. Every run is checked against the
// source (tableChecksums), so a broken restore fails the bench instead of printing a
// number. Timings are printed, never asserted. Then the backup row (bench/backup-format.ts):
// day2's directory-format backup against the seed runbook's pg_dump -Fc + tar czf.
//
// Knobs: DAY2_BENCH_RUNS (runs per strategy), DAY2_BENCH_SCALE (1 = 500,000 rows; the backup
// row: pgbench scale 5 × it), DAY2_BENCH_COMPRESSION (the backup row's, default 1),
// DAY2_BENCH_ONLY=backup (the backup row alone),
// DAY2_TEST_PG_ADMIN_URL (a superuser URL: use that server instead of a private cluster).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { databaseActivities } from '../src/activities/database';
import { quoteIdent, quoteLiteral, withClient } from '../src/activities/shared/pg-connection';
import { tableChecksums } from '../src/activities/shared/table-checksums';
import { parseConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startPostgres, type PostgresCluster } from '../test/harness/postgres';
import { activityDeps } from '../src/activities/shared/deps';
import { benchDirectoryBackup } from './backup-format';

interface Rows {
  customers: number;
  orders: number;
  events: number;
}

function rowsAt(scale: number): Rows {
  const rows = { customers: Math.round(30_000 * scale), orders: Math.round(300_000 * scale), events: Math.round(170_000 * scale) };
  if (rows.customers < 1) throw new Error(`DAY2_BENCH_SCALE=${scale} leaves no rows to restore`);
  return rows;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[1-9][0-9]*$/.test(raw.trim())) throw new Error(`${name} must be a positive whole number, not '${raw}'`);
  return Number(raw);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not '${raw}'`);
  return n;
}

// ---------------------------------------------------------------------------------------
// Cleanup: everything the bench creates is registered here as soon as it exists, and torn
// down in reverse order on success, failure, or Ctrl-C.

const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
let cleaning: Promise<boolean> | undefined;

function cleanUp(): Promise<boolean> {
  cleaning ??= (async () => {
    let ok = true;
    for (const { what, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (err) {
        ok = false;
        console.error(`bench: cleanup failed (${what}): ${(err as Error).message}`);
      }
    }
    return ok;
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // tsx relays the terminal's signal to this process too: say it once.
    if (!cleaning) console.error(`\nbench: ${signal}: cleaning up`);
    void cleanUp().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------
// Helpers.

const now = () => performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  return withClient(url, (client) => client.query(text));
}

function urlAs(adminUrl: string, role: string, password: string, database: string): string {
  const u = new URL(adminUrl);
  u.username = role;
  u.password = password;
  u.pathname = `/${database}`;
  return u.toString();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(1)}x` : 'n/a');
const count = (n: number) => n.toLocaleString('en-US');

function sameData(what: string, actual: Record<string, string>, expected: Record<string, string>): void {
  const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort();
  const differing = keys.filter((k) => actual[k] !== expected[k]);
  if (differing.length) {
    const detail = differing.map((k) => `${k}: got ${actual[k] ?? 'missing'}, want ${expected[k] ?? 'absent'}`).join('; ');
    throw new Error(`${what}: the restored data differs from the backup's source (${detail})`);
  }
}

/** A realistic little OLTP schema: customers, their orders, an audit trail in its own
 * schema; primary keys, foreign keys, a unique and a few secondary indexes, a view. */
function seedSql(ROWS: Rows): string {
  return `
    CREATE TABLE customers (
      id serial PRIMARY KEY,
      email text NOT NULL UNIQUE,
      name text NOT NULL,
      tier smallint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL
    );
    CREATE TABLE orders (
      id bigserial PRIMARY KEY,
      customer_id int NOT NULL REFERENCES customers(id),
      status text NOT NULL,
      total numeric(12,2) NOT NULL,
      note text,
      created_at timestamptz NOT NULL
    );
    CREATE SCHEMA audit;
    CREATE TABLE audit.events (
      id bigserial PRIMARY KEY,
      order_id bigint NOT NULL,
      at timestamptz NOT NULL,
      payload jsonb NOT NULL
    );
    INSERT INTO customers (email, name, tier, created_at)
      SELECT 'user' || g || '@example.com', 'Customer ' || md5(g::text), g % 4,
             timestamptz '2024-01-01' + (g || ' minutes')::interval
        FROM generate_series(1, ${ROWS.customers}) g;
    INSERT INTO orders (customer_id, status, total, note, created_at)
      SELECT 1 + (g::bigint * 7919) % ${ROWS.customers},
             (ARRAY['new', 'paid', 'shipped', 'delivered', 'refunded'])[1 + g % 5],
             round(((g * 37) % 100000) / 100.0, 2),
             CASE WHEN g % 10 = 0 THEN 'gift: ' || md5(g::text) END,
             timestamptz '2024-06-01' + (g || ' seconds')::interval
        FROM generate_series(1, ${ROWS.orders}) g;
    INSERT INTO audit.events (order_id, at, payload)
      SELECT 1 + (g::bigint * 104729) % ${ROWS.orders},
             timestamptz '2024-06-01' + (g * 3 || ' seconds')::interval,
             jsonb_build_object('kind', (ARRAY['created', 'paid', 'shipped'])[1 + g % 3], 'by', 'svc-' || g % 17, 'seq', g)
        FROM generate_series(1, ${ROWS.events}) g;
    CREATE INDEX orders_customer_created ON orders (customer_id, created_at);
    CREATE INDEX orders_status ON orders (status) WHERE status <> 'delivered';
    CREATE INDEX events_order ON audit.events (order_id, at);
    CREATE VIEW customer_totals AS
      SELECT c.id, c.email, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email;
    ANALYZE;`;
}

/** Writes after the backup, so a restore has something to undo (and a no-op restore could
 * not pass the checksum comparison). */
async function changeLiveData(url: string): Promise<void> {
  const { rowCount } = await sql(url, `UPDATE customers SET tier = tier + 10 WHERE id % 50 = 0`);
  if (!rowCount) throw new Error('changing the live data before a restore touched no rows');
  await sql(
    url,
    `DELETE FROM audit.events WHERE id % 97 = 0; INSERT INTO orders (customer_id, status, total, created_at) VALUES (1, 'new', 1, now())`,
  );
}

// ---------------------------------------------------------------------------------------

interface Run {
  total: number;
  window: number;
  /** swap only: the staging part. */
  stage?: number;
}

async function main(): Promise<void> {
  const started = now();
  const RUNS = positiveInt('DAY2_BENCH_RUNS', 3);
  const ROWS = rowsAt(positiveNumber('DAY2_BENCH_SCALE', 1));
  const tag = `b${randomBytes(3).toString('hex')}`;
  const work = mkdtempSync(path.join(os.tmpdir(), 'day2-bench-'));
  cleanups.push({ what: `remove ${work}`, run: async () => rmSync(work, { recursive: true, force: true }) });
  // The private cluster lives inside `work`, owned by the OS user `postgres` when we run as
  // root: it must be able to traverse `work` (not list it).
  chmodSync(work, 0o711);

  const external = Boolean(process.env.DAY2_TEST_PG_ADMIN_URL);
  log(external ? 'bench: using the PostgreSQL server at DAY2_TEST_PG_ADMIN_URL' : 'bench: starting a private PostgreSQL cluster');
  const cluster: PostgresCluster = await startPostgres({ baseDir: work });
  cleanups.push({ what: 'stop PostgreSQL', run: () => cluster.stop() });
  const backupRow = () =>
    benchDirectoryBackup({
      adminUrl: cluster.adminUrl,
      work,
      runs: RUNS,
      scale: positiveNumber('DAY2_BENCH_SCALE', 1),
      cleanup: (what, run) => void cleanups.push({ what, run }),
      log,
    });
  const only = process.env.DAY2_BENCH_ONLY;
  if (only !== undefined && only !== 'backup') throw new Error(`DAY2_BENCH_ONLY must be 'backup' (the backup row alone), not '${only}'`);
  if (only === 'backup') {
    await backupRow();
    log(`bench: done in ${duration(now() - started)}`);
    return;
  }

  // Two deployments, each with its own database owned by its own role:
  //   swap:     the role may create databases (the normal, staging path);
  //   inplace:  the role may not (the fallback), exactly the "restore without CREATEDB" case.
  const db = { swap: `${tag}_swap`, inplace: `${tag}_inplace` };
  const role = { swap: `${tag}_owner`, inplace: `${tag}_app` };
  const password = randomBytes(12).toString('hex');
  cleanups.push({
    what: 'drop the bench databases and roles',
    run: async () => {
      if (!external) return; // the whole cluster goes away with stop()
      await withClient(cluster.adminUrl, async (client) => {
        const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${tag}\\_%`]);
        for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
        for (const r of Object.values(role)) await client.query(`DROP ROLE IF EXISTS ${quoteIdent(r)}`);
      });
    },
  });
  const urls = {
    swap: urlAs(cluster.adminUrl, role.swap, password, db.swap),
    inplace: urlAs(cluster.adminUrl, role.inplace, password, db.inplace),
  };
  await withClient(cluster.adminUrl, async (client) => {
    await client.query(`CREATE ROLE ${quoteIdent(role.swap)} LOGIN CREATEDB NOSUPERUSER PASSWORD ${quoteLiteral(password)}`);
    await client.query(`CREATE ROLE ${quoteIdent(role.inplace)} LOGIN NOCREATEDB NOSUPERUSER PASSWORD ${quoteLiteral(password)}`);
    await client.query(`CREATE DATABASE ${quoteIdent(db.swap)} OWNER ${quoteIdent(role.swap)}`);
    await client.query(`CREATE DATABASE ${quoteIdent(db.inplace)} OWNER ${quoteIdent(role.inplace)}`);
  });

  const seedStarted = now();
  await Promise.all([sql(urls.swap, seedSql(ROWS)), sql(urls.inplace, seedSql(ROWS))]);
  const seedMs = now() - seedStarted;
  const [source, sourceInplace] = await Promise.all([tableChecksums(urls.swap), tableChecksums(urls.inplace)]);
  sameData('the two seeded databases', sourceInplace, source);
  const { rows: sizeRows } = await sql(
    urls.swap,
    `SELECT pg_database_size(current_database())::bigint AS bytes, current_setting('server_version') AS version,
      (SELECT count(*) FROM pg_indexes WHERE schemaname IN ('public', 'audit'))::int AS indexes`,
  );
  const info = sizeRows[0] as { bytes: string; version: string; indexes: number };
  const totalRows = ROWS.customers + ROWS.orders + ROWS.events;

  const envFile = (name: string, url: string) => {
    writeFileSync(path.join(work, `${name}.env`), `DATABASE_URL=${url}\n`, { mode: 0o600 });
    return `${name}.env`;
  };
  const deployment = (name: 'swap' | 'inplace') => ({
    runtime: { kind: 'commands', start: 'true', stop: 'true' },
    envFile: envFile(name, urls[name]),
    health: { ready: 'http://127.0.0.1:1/health/ready' },
    backup: { dir: `backups-${name}` },
  });
  const config = parseConfig({ deployments: { swap: deployment('swap'), inplace: deployment('inplace') } }, work, 'bench config');
  const acts = databaseActivities(activityDeps({ config, logger: createLogger('bench', process.env.DAY2_BENCH_LOG ?? 'warn') }));

  // The backups, with the real backup activity (pg_dump -Fc, verified, with a manifest).
  const file = { swap: 'swap-bench.dump', inplace: 'inplace-bench.dump' };
  const backupRun = (deploymentName: 'swap' | 'inplace') => ({
    deployment: deploymentName,
    fileName: file[deploymentName],
    workflowId: 'day2-bench',
    runId: `bench-${deploymentName}`,
    createdAt: new Date().toISOString(),
  });
  const backupStarted = now();
  const { manifest } = await acts.createBackup(backupRun('swap'));
  const backupMs = now() - backupStarted;
  await acts.createBackup(backupRun('inplace'));
  for (const name of ['swap', 'inplace'] as const) await acts.verifyBackup({ deployment: name, file: file[name] });

  // The fallback is real: this role cannot stage.
  const refused = await acts.stageRestore({ deployment: 'inplace', file: file.inplace, stagingDb: `${tag}_inplace_staging` }).then(
    () => undefined,
    (err: unknown) => err as { type?: string; message?: string },
  );
  if (refused?.type !== 'NoCreateDb') {
    throw new Error(
      `expected stageRestore to refuse the NOCREATEDB role with type NoCreateDb, got ${refused ? `${refused.type}: ${refused.message}` : 'success'}`,
    );
  }

  log(
    `bench: PostgreSQL ${info.version}; ${count(totalRows)} rows in 3 tables, ${info.indexes} indexes, ` +
      `${(Number(info.bytes) / 1e6).toFixed(1)} MB on disk; seeded in ${duration(seedMs)}; ` +
      `backup (createBackup) ${duration(backupMs)}, dump ${(manifest.sizeBytes / 1e6).toFixed(1)} MB`,
  );

  const swapRuns: Run[] = [];
  const inplaceRuns: Run[] = [];

  const runSwap = async (i: number) => {
    await changeLiveData(urls.swap);
    const stagingDb = `${db.swap}_restore_${i}`;
    const keepAs = `${db.swap}_pre_restore_${i}`;
    const t0 = now();
    await acts.stageRestore({ deployment: 'swap', file: file.swap, stagingDb });
    const t1 = now();
    const swapped = await acts.swapInRestoredDatabase({ deployment: 'swap', stagingDb, keepAs });
    const t2 = now();
    if (swapped.alreadyDone) throw new Error(`swap run ${i}: the swap reported alreadyDone on a fresh staging database`);
    sameData(`swap run ${i}`, await tableChecksums(urls.swap), source);
    // What the operator would eventually do with the set-aside database; not timed.
    const { dropped } = await acts.dropDatabaseIfExists({ deployment: 'swap', name: keepAs });
    if (!dropped) throw new Error(`swap run ${i}: the previous database was not kept as ${keepAs}`);
    swapRuns.push({ total: t2 - t0, window: t2 - t1, stage: t1 - t0 });
    log(
      `  run ${i}  swap      stage ${duration(t1 - t0).padStart(9)}  swap ${duration(t2 - t1).padStart(9)}  total ${duration(t2 - t0).padStart(9)}`,
    );
  };

  const runInPlace = async (i: number) => {
    await changeLiveData(urls.inplace);
    // A new safety file each run: a reused one would skip the safety dump.
    const safetyFile = `inplace-pre-restore-${i}.dump`;
    const t0 = now();
    const outcome = await acts.restoreInPlace({
      deployment: 'inplace',
      file: file.inplace,
      safetyFile,
      workflowId: 'day2-bench',
      runId: `bench-inplace-${i}`,
    });
    const t1 = now();
    if (outcome.safetyReused) throw new Error(`in-place run ${i}: the safety dump was reused, the run would not be comparable`);
    if (outcome.dropped.length) throw new Error(`in-place run ${i}: unexpectedly dropped ${outcome.dropped.join(', ')}`);
    sameData(`in-place run ${i}`, await tableChecksums(urls.inplace), source);
    // The safety dump stays on disk in a real restore; the bench does not need it.
    const dir = path.join(work, `backups-inplace`);
    rmSync(path.join(dir, safetyFile), { force: true });
    rmSync(path.join(dir, `${safetyFile}.manifest.json`), { force: true });
    inplaceRuns.push({ total: t1 - t0, window: t1 - t0 });
    log(`  run ${i}  in-place  (safety dump + pg_restore --clean)             total ${duration(t1 - t0).padStart(9)}`);
  };

  // Interleaved, alternating which goes first, so background load hits both alike.
  for (let i = 1; i <= RUNS; i++) {
    if (i % 2) {
      await runSwap(i);
      await runInPlace(i);
    } else {
      await runInPlace(i);
      await runSwap(i);
    }
  }

  const swap = {
    total: median(swapRuns.map((r) => r.total)),
    window: median(swapRuns.map((r) => r.window)),
    stage: median(swapRuns.map((r) => r.stage!)),
  };
  const inplace = { total: median(inplaceRuns.map((r) => r.total)), window: median(inplaceRuns.map((r) => r.window)) };

  const rows: Array<[string, string, string]> = [
    ['strategy', 'total', 'unavailable window'],
    ['staging restore + swap', duration(swap.total), duration(swap.window)],
    ['in-place (fallback, no CREATEDB)', duration(inplace.total), duration(inplace.window)],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: [string, string, string]) => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2].padStart(widths[2]!)}`;

  log('');
  log(
    `Restore of ${count(totalRows)} rows (${(manifest.sizeBytes / 1e6).toFixed(1)} MB dump), median of ${RUNS} run${RUNS === 1 ? '' : 's'} each; every run verified by table checksums:`,
  );
  log('');
  log(line(rows[0]!));
  log(line(['-'.repeat(widths[0]!), '-'.repeat(widths[1]!), '-'.repeat(widths[2]!)]));
  log(line(rows[1]!));
  log(line(rows[2]!));
  log('');
  log(`  unavailable window: in-place / swap = ${ratio(inplace.window, swap.window)}`);
  log(`  total time:         in-place / swap = ${ratio(inplace.total, swap.total)}`);
  log('');
  log(
    `  swap = stageRestore ${duration(swap.stage)} (service still up) + swapInRestoredDatabase ${duration(swap.window)} (service stopped);`,
  );
  log(`  in-place = restoreInPlace: safety dump + pg_restore --clean --single-transaction, all while the service is stopped.`);
  log(`  Stopping, starting and readiness of the service come on top of both windows. Timings are noisy; nothing is asserted.`);

  await backupRow();
  log(`bench: done in ${duration(now() - started)}`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  console.error(`bench: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.DAY2_BENCH_DEBUG && err instanceof Error) console.error(err.stack);
} finally {
  if (!(await cleanUp())) exitCode = 1;
}
process.exit(exitCode);
