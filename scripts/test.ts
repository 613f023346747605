// `npm test [files...]` (`npm run test:fast`: `--fast`, unit and workflow layers only, no
// PostgreSQL): starts the slow shared fixtures once — a private PostgreSQL, a Temporal dev
// server, the webpack bundle of the workflows, builds of the CLI and of the example ledger —
// and hands them to the test files through env vars, so each file connects in milliseconds
// instead of paying for its own. Fixtures already given by the caller (DAY2_TEST_PG_ADMIN_URL,
// DAY2_TEST_TEMPORAL_ADDRESS) are used as they are.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { registerSearchAttributes } from '../src/dev-server';
import { startPostgres } from '../test/harness/postgres';
import { startTemporal } from '../test/harness/temporal';
import { buildCliBundle } from './cli-bundle';
import { buildLedger } from './ledger-build';
import { ensureChromium, ensurePostgresTools, ensureTemporalCli, ensureVersitygw } from './ensure-tools';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** This run's files (logs, the workflow bundle, the secrets list): runs may overlap. */
const RUN_DIR = path.join(root, '.day2/test/runs', String(process.pid));
const t0 = Date.now();
const secondsSince = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)} s`;

const stops: Array<() => Promise<void>> = [];
async function stopFixtures(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((err) => console.error('test: cleanup failed:', err));
}

let runner: ResultPromise | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The runner exits on its own and the normal path cleans up; before it starts, do it here.
    if (runner) runner.kill(signal);
    else void stopFixtures().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

/** Run only when named: the whole crash matrix takes minutes (`npm test` runs its smoke
 * subset, test/e2e/crash-matrix-smoke.test.ts). */
const ONLY_WHEN_NAMED = path.join(root, 'test', 'crash');
/** Checks of what the other files left behind (the secret scan, the history recorder): run
 * after every other file has finished, not merely after it started. */
const AFTER_ALL = path.join('test', 'after-all') + path.sep;
/** `--fast` (`npm run test:fast`): the layers that need neither PostgreSQL nor a service. */
const FAST_LAYERS = ['unit', 'workflows'].map((layer) => path.join(root, 'test', layer));

/** test/**\/*.test.ts, sorted (Node 20's --test does not expand globs), but for test/crash/. */
function findTestFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return full === ONLY_WHEN_NAMED ? [] : findTestFiles(full);
      return entry.name.endsWith('.test.ts') ? [path.relative(root, full)] : [];
    })
    .sort();
}

/** What the fixtures hand to the test files, set in process.env only once all have started:
 * the Temporal SDK starts the dev server from a native thread that reads the process's
 * environment as it spawns it, and a setenv at that moment (another fixture finishing)
 * failed the spawn with EFAULT ("Bad address (os error 14)") in CI. */
const fixtureEnv: Record<string, string> = {};

async function sharedPostgres(): Promise<void> {
  if (process.env.DAY2_TEST_PG_ADMIN_URL) return;
  const start = Date.now();
  const pg = await startPostgres();
  stops.push(() => pg.stop());
  fixtureEnv.DAY2_TEST_PG_ADMIN_URL = pg.adminUrl;
  console.log(`test: PostgreSQL on port ${pg.port} (${secondsSince(start)})`);
}

async function sharedTemporal(cliPath: string): Promise<void> {
  const existing = process.env.DAY2_TEST_TEMPORAL_ADDRESS;
  if (existing) {
    // Someone else's server: make sure day2's search attributes exist there too.
    await registerSearchAttributes(cliPath, existing, process.env.DAY2_TEST_TEMPORAL_NAMESPACE || 'default');
    return;
  }
  const start = Date.now();
  const temporal = await startTemporal();
  stops.push(() => temporal.stop());
  fixtureEnv.DAY2_TEST_TEMPORAL_ADDRESS = temporal.address;
  if (temporal.httpAddress) fixtureEnv.DAY2_TEST_TEMPORAL_HTTP_ADDRESS = temporal.httpAddress;
  console.log(`test: Temporal dev server at ${temporal.address}, HTTP API ${temporal.httpAddress} (${secondsSince(start)})`);
}

async function workflowBundle(): Promise<void> {
  const workflowsPath = path.join(root, 'src/workflows/index.ts');
  if (!existsSync(workflowsPath)) {
    console.warn('test: warning: src/workflows/index.ts does not exist yet; DAY2_WORKFLOW_BUNDLE not set');
    return;
  }
  const start = Date.now();
  // WARN: webpack's module-by-module report at INFO would bury the test output.
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [path.join(root, 'src/workflows/host-routing.ts')],
    logger: new DefaultLogger('WARN'),
  });
  // Per run: another run in the same checkout must not swap the bundle under this one.
  const bundlePath = path.join(RUN_DIR, 'workflow-bundle.js');
  mkdirSync(path.dirname(bundlePath), { recursive: true });
  writeFileSync(bundlePath, code);
  fixtureEnv.DAY2_WORKFLOW_BUNDLE = bundlePath;
  console.log(`test: workflow bundle ${path.relative(root, bundlePath)} (${secondsSince(start)})`);
}

/** The CLI and worker processes the tests start run this run's build of src/ (as
 * `npm run build` makes dist/cli.cjs; test/harness/cli.ts): tsx would compile the
 * TypeScript again at each of the suite's hundreds of starts. Not named dist/, so a worker
 * run from it never mistakes the checkout's dist/workflow-bundle.js for its own. */
async function cliBundle(): Promise<void> {
  if (process.env.DAY2_TEST_CLI_BUNDLE) return;
  const start = Date.now();
  const bundlePath = path.join(RUN_DIR, 'cli', 'cli.cjs');
  await buildCliBundle(bundlePath);
  fixtureEnv.DAY2_TEST_CLI_BUNDLE = bundlePath;
  console.log(`test: CLI build ${path.relative(root, bundlePath)} (${secondsSince(start)})`);
}

/** The example ledger service the e2e deployments run, built once per run
 * (scripts/ledger-build.ts) for the same reason. */
async function ledgerBuild(): Promise<void> {
  if (process.env.DAY2_TEST_LEDGER_BUILD) return;
  const start = Date.now();
  const dir = path.join(RUN_DIR, 'ledger');
  await buildLedger(dir);
  fixtureEnv.DAY2_TEST_LEDGER_BUILD = dir;
  console.log(`test: ledger build ${path.relative(root, dir)} (${secondsSince(start)})`);
}

/** Where e2e workers and CLI runs log, and the (0600) list of secret values tests
 * generated: both outlive the test files so test/after-all/secret-scan.test.ts, which runs last,
 * can search them. One directory per run (several runs may share a checkout); the
 * secrets go when the run ends, the logs stay until a later run prunes them. */
function secretScanFiles(allFiles: boolean): void {
  const runs = path.dirname(RUN_DIR);
  mkdirSync(runs, { recursive: true });
  for (const old of readdirSync(runs)) if (!isAlive(Number(old))) rmSync(path.join(runs, old), { recursive: true, force: true });
  const logDir = path.join(RUN_DIR, 'logs');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(RUN_DIR, 'secrets.jsonl');
  writeFileSync(secretsFile, '', { mode: 0o600 });
  stops.push(async () => {
    rmSync(secretsFile, { force: true });
    rmSync(`${secretsFile}.keyrings`, { force: true });
  });
  process.env.DAY2_TEST_LOG_DIR = logDir;
  process.env.DAY2_TEST_SECRETS_FILE = secretsFile;
  if (allFiles) process.env.DAY2_TEST_ALL_FILES = '1';
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const fast = args[0] === '--fast';
  const named = fast ? [] : args;
  const cliPath = await ensureTemporalCli();
  if (!fast) {
    // The off-site tests' S3 server: built once here (minutes the first time), so no test
    // file pays for it; they find it in $VERSITYGW.
    process.env.VERSITYGW ??= await ensureVersitygw();
    ensurePostgresTools();
    await ensureChromium();
  }
  const files = fast ? FAST_LAYERS.flatMap(findTestFiles) : named.length ? named : findTestFiles(path.join(root, 'test'));
  secretScanFiles(!fast && !named.length);
  // Independent and each a few seconds: start them together. allSettled, so a fixture
  // still starting when another fails is registered for cleanup before we give up.
  const fixtures = [...(fast ? [] : [sharedPostgres(), ledgerBuild()]), sharedTemporal(cliPath), workflowBundle(), cliBundle()];
  const started = await Promise.allSettled(fixtures);
  Object.assign(process.env, fixtureEnv);
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
  const isAfterAll = (file: string) => path.relative(root, path.resolve(root, file)).startsWith(AFTER_ALL);
  const phases = [files.filter((f) => !isAfterAll(f)), files.filter(isAfterAll)].filter((p) => p.length);
  let exitCode = 0;
  for (const phase of phases) {
    const code = await runFiles(phase, !fast && !named.length);
    if (code > 128) return code; // interrupted: stop here
    exitCode ||= code;
  }
  return exitCode;
}

/** Test files run three at a time by default: much of a file's time is spent waiting (for
 * readiness, timers, a killed worker's heartbeat timeout), and every e2e file has its own
 * deployment, database, service port and task queue. On 2 cores three keep the CPU ~95%
 * busy (two: 927 s, three: 733 s for the suite); more only queue for it.
 * DAY2_TEST_CONCURRENCY=1 serialises. */
const CONCURRENCY = Math.max(1, Number(process.env.DAY2_TEST_CONCURRENCY) || 3);

/** Seconds each test file took in an earlier run of the whole suite: this checkout's last
 * (.day2/test/file-times.json, rewritten by every such run), else the committed snapshot
 * (test/file-times.json). The runner starts files in the order given, so the slowest go
 * first and the short ones fill in around them; files not listed yet go first of all. */
const FILE_TIMES = process.env.DAY2_TEST_FILE_TIMES || path.join(root, '.day2', 'test', 'file-times.json');
const FILE_TIMES_SNAPSHOT = path.join(root, 'test', 'file-times.json');

function slowestFirst(files: string[]): string[] {
  const from = [FILE_TIMES, FILE_TIMES_SNAPSHOT].find((f) => existsSync(f));
  const known = from ? (JSON.parse(readFileSync(from, 'utf8')) as Record<string, number>) : {};
  const seconds = (f: string) => known[path.relative(root, path.resolve(root, f))] ?? Infinity;
  return [...files].sort((a, b) => seconds(b) - seconds(a) || a.localeCompare(b));
}

/** This run's seconds by file, written by scripts/test-file-times.mjs as files report. */
const RUN_TIMES = path.join(os.tmpdir(), `day2-test-run-times-${process.pid}.json`);

function printSlowest(): void {
  if (!existsSync(RUN_TIMES)) return;
  const seconds = JSON.parse(readFileSync(RUN_TIMES, 'utf8')) as Record<string, number>;
  rmSync(RUN_TIMES, { force: true });
  const slowest = Object.entries(seconds)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 10);
  if (slowest.length < 2) return;
  console.log('\nslowest test files (seconds of tests, not counting start-up):');
  for (const [file, s] of slowest) console.log(`  ${String(s).padStart(5)}  ${file}`);
}

async function runFiles(files: string[], recordTimes: boolean): Promise<number> {
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
  reporters.push('--test-reporter=./scripts/test-file-times.mjs', '--test-reporter-destination=stdout');
  runner = execa(
    process.execPath,
    // --test-force-exit: a file whose before() failed after spawning a server would
    // otherwise never exit (its child keeps the event loop alive) and hang the whole run.
    ['--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${CONCURRENCY}`, ...reporters, ...slowestFirst(files)],
    {
      cwd: root,
      stdio: 'inherit',
      reject: false,
      env: { ...process.env, DAY2_TEST_RUN_TIMES: RUN_TIMES, ...(recordTimes ? { DAY2_TEST_FILE_TIMES: FILE_TIMES } : {}) },
    },
  );
  const result = await runner;
  printSlowest();
  // Killed by a signal: report it the way a shell would (130 for SIGINT).
  return result.exitCode ?? 128 + (os.constants.signals[result.signal as NodeJS.Signals] ?? 0);
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (err) {
  console.error('test:', err instanceof Error ? err.message : err);
} finally {
  await stopFixtures();
  console.log(`test: wall time ${secondsSince(t0)}`);
}
process.exit(exitCode);
