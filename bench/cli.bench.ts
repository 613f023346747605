// `npm run bench:cli` (part of `npm run bench`): day2 through its CLI, end to end, against
// the raw tools it wraps, in alternating runs on the same database, medians and ratios:
//
//   backup        `day2 backup` (CLI start to done)     vs raw `pg_dump -Fc`
//   seed runbook  `day2 backup`                          vs `pg_dump -Fc` + `tar czf` of it
//   directory     raw `pg_dump -Fd -j N` vs raw `pg_dump -Fc` (day2 has no directory mode yet)
//   restore       `day2 restore --yes` (CLI to done)     vs raw `pg_restore -j N` into a fresh database
//   start-up      `day2 --help`, `day2 list`            (seconds; the goal is ≤ 0.3 s)
//   100 at once   100 backups started by `day2 backup --detach` vs through the SDK, all done;
//                 and the worker's peak resident memory
//
// The CLI runs as installed: bin/day2.js, from dist/ (this bench builds it first unless
// DAY2_BENCH_NO_BUILD=1). Timings are printed, never asserted.
//
// Knobs: DAY2_BENCH_SCALE (1 = 1,000,000 rows with random filler, ≈ 150 MB on disk, a
// ≈ 40 MB dump; default 2), DAY2_BENCH_RUNS (default 3), DAY2_BENCH_CONCURRENT (default
// 100; 0 skips it), DAY2_TEST_PG_ADMIN_URL / DAY2_TEST_TEMPORAL_ADDRESS (servers to use),
// DAY2_BENCH_GRPC_ONLY=1 (no temporal.httpAddress: every CLI call loads the SDK's client).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { libpqArgs, quoteIdent, withClient } from '../src/activities/shared/pg-connection';
import { pgTool } from '../src/lib/pg-tools';
import { formatBytes } from '../src/domain/human-bytes';
import { DEPLOYMENT, OPERATION } from '../src/domain/search-attributes';
import { mutatingWorkflowId } from '../src/domain/workflow-ids';
import { BIN, startStack, type BenchStack } from './stack';

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not '${raw}'`);
  return n;
};
const SCALE = num('DAY2_BENCH_SCALE', 2);
const RUNS = Math.max(1, Math.round(num('DAY2_BENCH_RUNS', 3)));
const CONCURRENT = Math.round(num('DAY2_BENCH_CONCURRENT', 100));
const JOBS = os.availableParallelism();

const log = (line: string) => process.stdout.write(`${line}\n`);
const now = () => performance.now();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** Runs each named contender RUNS times, alternating which goes first; medians by name. */
async function alternate(names: string[], run: (name: string, i: number) => Promise<number>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 ? [...names].reverse() : names;
    for (const name of order) times[name]!.push(await run(name, i));
  }
  for (const name of names) log(`    ${name.padEnd(34)} ${times[name]!.map(secs).join('  ')}`);
  return Object.fromEntries(names.map((n) => [n, median(times[n]!)]));
}

function ratioLine(what: string, a: number, b: number, goal?: string): void {
  log(`  RATIO ${what}: ${(a / b).toFixed(2)}  (${secs(a)} vs ${secs(b)})${goal ? `  goal ${goal}` : ''}`);
}

async function seed(url: string, scale: number): Promise<void> {
  const rows = Math.round(1_000_000 * scale);
  await withClient(url, async (c) => {
    // pgbench_accounts' shape, with random filler (realistic compression, ≈ 3:1).
    await c.query(`CREATE TABLE accounts (aid bigint PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler text)`);
    await c.query(
      `INSERT INTO accounts SELECT g, g % 100, (g::bigint * 7919) % 100000, md5(random()::text) || md5(random()::text) FROM generate_series(1, ${rows}) g`,
    );
    await c.query(`CREATE TABLE branches AS SELECT g AS bid, md5(g::text) AS name FROM generate_series(1, 100) g`);
    await c.query(`CREATE INDEX accounts_bid ON accounts (bid)`);
    await c.query('ANALYZE');
  });
}

function pgEnv(url: string) {
  const { dbname, env } = libpqArgs(url);
  return { dbname, env };
}

async function main(): Promise<void> {
  const started = now();
  if (process.env.DAY2_BENCH_NO_BUILD !== '1') {
    log('bench: building dist/ (npm run build)');
    await execa('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'day2-bench-cli-'));
  chmodSync(work, 0o711);
  const small = Array.from({ length: CONCURRENT }, (_, i) => `c${String(i + 1).padStart(3, '0')}`);
  let stack: BenchStack | undefined;
  try {
    stack = await startStack({ dir: work, deployments: ['big', ...small], restore: { jobs: JOBS } });
    const bigUrl = stack.databaseUrls.big!;
    let t0 = now();
    await seed(bigUrl, SCALE);
    for (const name of small)
      await withClient(stack.databaseUrls[name]!, (c) =>
        c.query(`CREATE TABLE t AS SELECT g, md5(g::text) AS m FROM generate_series(1, 2000) g`),
      );
    const size = await withClient(bigUrl, async (c) =>
      Number((await c.query(`SELECT pg_database_size(current_database()) AS s`)).rows[0].s),
    );
    log(
      `bench: seeded ${formatBytes(size)} (scale ${SCALE}) in ${secs(now() - t0)}; ${RUNS} alternating runs; pg_restore/pg_dump -j ${JOBS}`,
    );
    t0 = now();
    await stack.startWorker();
    log(`bench: worker started through bin/day2.js in ${secs(now() - t0)}`);

    const raw = path.join(work, 'raw');
    const { dbname, env } = pgEnv(bigUrl);
    const pgDump = (args: string[]) => execa(pgTool('pg_dump'), ['--no-password', `--dbname=${dbname}`, ...args], { env });
    const day2 = stack.day2.bind(stack);

    // ---- backup
    log('\nbackup (CLI to done) vs raw pg_dump');
    let lastDump = '';
    const backup = await alternate(
      ['raw pg_dump -Fc', 'seed runbook: pg_dump -Fc + tar czf', `raw pg_dump -Fd -j ${JOBS}`, 'day2 backup'],
      async (name, i) => {
        rmSync(raw, { recursive: true, force: true });
        if (name === 'raw pg_dump -Fc') return timed(() => pgDump(['-Fc', `--file=${raw}`]));
        if (name.startsWith('raw pg_dump -Fd')) return timed(() => pgDump(['-Fd', `--jobs=${JOBS}`, `--file=${raw}`]));
        if (name.startsWith('seed'))
          return timed(async () => {
            await pgDump(['-Fc', `--file=${raw}`]);
            await execa('tar', ['czf', `${raw}.tar.gz`, '-C', work, 'raw']);
          });
        return timed(async () => {
          const r = await day2(['--json', 'backup', '--deployment', 'big']);
          lastDump = (JSON.parse(r.stdout) as { result: { file: string } }).result.file;
          void i;
        });
      },
    );
    log(`    dump ${formatBytes(statSync(path.join(stack.backupDirs.big!, lastDump)).size)}`);
    ratioLine('day2 backup / raw pg_dump -Fc', backup['day2 backup']!, backup['raw pg_dump -Fc']!, '≤ 1.05');
    ratioLine('day2 backup / seed runbook', backup['day2 backup']!, backup['seed runbook: pg_dump -Fc + tar czf']!);
    ratioLine(`raw pg_dump -Fd -j ${JOBS} / raw pg_dump -Fc`, backup[`raw pg_dump -Fd -j ${JOBS}`]!, backup['raw pg_dump -Fc']!);
    rmSync(`${raw}.tar.gz`, { force: true });

    // ---- restore
    log(`\nrestore (CLI to done) vs raw pg_restore -j ${JOBS} into a fresh database`);
    const dumpPath = path.join(stack.backupDirs.big!, lastDump);
    const admin = stack.pg.adminUrl;
    const restore = await alternate([`raw pg_restore -j ${JOBS}`, 'day2 restore --yes'], async (name, i) => {
      if (name.startsWith('raw')) {
        const fresh = `bench_raw_${i}_${randomBytes(2).toString('hex')}`;
        const ms = await timed(async () => {
          await withClient(admin, (c) => c.query(`CREATE DATABASE ${quoteIdent(fresh)}`));
          const target = pgEnv(stack!.pg.urlFor(fresh));
          await execa(
            pgTool('pg_restore'),
            ['--no-password', `--dbname=${target.dbname}`, '--no-owner', '--no-acl', '--exit-on-error', `--jobs=${JOBS}`, dumpPath],
            { env: target.env },
          );
        });
        await withClient(admin, (c) => c.query(`DROP DATABASE ${quoteIdent(fresh)} WITH (FORCE)`));
        return ms;
      }
      const ms = await timed(() => day2(['restore', lastDump, '--deployment', 'big', '--yes']));
      // The replaced data day2 keeps aside: dropped here, untimed, so disk use stays flat.
      await withClient(admin, async (c) => {
        const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'big\\_pre\\_restore\\_%'`);
        for (const { datname } of rows) await c.query(`DROP DATABASE ${quoteIdent(datname)} WITH (FORCE)`);
      });
      return ms;
    });
    ratioLine(`day2 restore / raw pg_restore -j ${JOBS}`, restore['day2 restore --yes']!, restore[`raw pg_restore -j ${JOBS}`]!, '≤ 1.05');

    // ---- start-up
    log('\nCLI start-up (bin/day2.js from dist), medians of 7');
    const startup = async (args: string[], env: Record<string, string> = {}) => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++)
        times.push(
          await timed(() =>
            execa(process.execPath, [BIN, '--config', stack!.configFile, ...args], { env: { DAY2_FROM_DIST: '1', ...env } }),
          ),
        );
      return median(times);
    };
    const bare = await startup(['--version']).catch(() => NaN);
    const nodeOnly = median(await Promise.all([0, 1, 2].map(() => timed(() => execa(process.execPath, ['-e', '0'])))));
    const help = await startup(['--help']);
    const list = await startup(['list', '--deployment', 'big']);
    // $TEMPORAL_ADDRESS drops the file's httpAddress: the SDK's gRPC client, for comparison.
    const listGrpc = await startup(['list', '--deployment', 'big'], { TEMPORAL_ADDRESS: stack.temporal.address });
    log(`    node -e 0 ${secs(nodeOnly)}; day2 --version ${Number.isNaN(bare) ? 'n/a' : secs(bare)}`);
    log(`  START-UP day2 --help ${secs(help)}  (goal ≤ 0.3 s)`);
    log(`  START-UP day2 list (read-only, talks to Temporal over its HTTP API) ${secs(list)}  (goal ≤ 0.3 s)`);
    log(`    day2 list over gRPC (no temporal.httpAddress) ${secs(listGrpc)}`);

    // ---- 100 at once
    if (CONCURRENT > 0) {
      log(`\n${CONCURRENT} backups of small databases started at once, until all are done`);
      const client = stack.temporal.client;
      const waitAll = (ids: string[]) => Promise.all(ids.map((id) => client.workflow.getHandle(id).result()));
      const ids = small.map(mutatingWorkflowId);
      const taskQueue = `day2-bench-${process.pid}`;
      const sdk = await timed(async () => {
        await Promise.all(
          small.map((deployment) =>
            client.workflow.start('backup', {
              workflowId: mutatingWorkflowId(deployment),
              taskQueue,
              args: [{ deployment }],
              typedSearchAttributes: [
                { key: DEPLOYMENT, value: deployment },
                { key: OPERATION, value: 'backup' },
              ],
            }),
          ),
        );
        await waitAll(ids);
      });
      const cli = await timed(async () => {
        await Promise.all(small.map((deployment) => day2(['backup', '--deployment', deployment, '--detach'])));
        await waitAll(ids);
      });
      log(`    SDK ${secs(sdk)}; CLI --detach ${secs(cli)}`);
      ratioLine(`${CONCURRENT} backups via CLI / via SDK`, cli, sdk, '≤ 2');
      const rss = stack.workerPeakRss();
      log(`  WORKER peak resident memory ${rss ? formatBytes(rss) : 'n/a'}  (goal ≤ 400 MB)`);
    }
    log(`\nbench: done in ${secs(now() - started)}`);
  } finally {
    await stack?.stop().catch((err: Error) => console.error(`bench: cleanup: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(`bench: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
