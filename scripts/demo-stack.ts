// What every demo stands on: the tools, a Temporal dev server with the Web UI (or the one
// already running), a private PostgreSQL, the sample ledger with seeded data, a day2
// worker in this process, and the `day2` CLI run as an operator would; with `offsite`, a
// real S3-compatible server (versitygw, as the tests start it) and an encrypted
// backup.offsite. Cleans up after itself; `--keep` leaves everything up until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
import { must, setUpLedgerDeployment, type LedgerDeployment, type LedgerDeploymentOptions } from '../examples/ledger-deployment';
import { loadConfig } from '../src/config';
import { isServerRunning, registerSearchAttributes, startDevServer } from '../src/dev-server';
import { createWorker } from '../src/worker';
import { freePort } from '../test/harness/free-port';
import { startPostgres } from '../test/harness/postgres';
import { offsiteConfig, startS3 } from '../test/harness/s3';
import { ensurePostgresTools, ensureTemporalCli } from './ensure-tools';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEMPORAL_ADDRESS = '127.0.0.1:7233';

export const say = (line: string) => process.stdout.write(`\n\x1b[1m▶ ${line}\x1b[0m\n`);

export function expectExit(r: { exitCode: number }, code: number, what: string): void {
  if (r.exitCode !== code) throw new Error(`${what}: expected exit code ${code}, got ${r.exitCode}`);
}

export interface DemoStack {
  deployment: LedgerDeployment;
  uiUrl: string;
  /** Runs `day2 <args>` against the demo's config, output shown live. */
  day2(...args: string[]): Promise<{ exitCode: number; stdout: string }>;
  /** Registered clean-ups run in reverse at the end. */
  onCleanup(fn: () => Promise<unknown>): void;
}

type DeploymentChoices = Omit<LedgerDeploymentOptions, 'dir' | 'databaseUrl' | 'port' | 'temporal'>;

export interface StackOptions {
  /** Copy every backup to a bucket on a local versitygw, encrypted. */
  offsite?: boolean;
}

/** A versitygw on a loopback port, a bucket, and the deployment's backup.offsite pointing at
 * it: credentials and a fresh encryption key in the env file, only their names in day2.yaml. */
async function setUpOffsite(deployment: LedgerDeployment, cleanups: Array<() => Promise<unknown>>): Promise<void> {
  say('An S3-compatible bucket for off-site copies (versitygw on a loopback port)');
  const s3 = await startS3();
  cleanups.push(() => s3.stop());
  const bucket = 'day2-demo-offsite';
  await s3.createBucket(bucket);
  const doc = YAML.parse(readFileSync(deployment.configFile, 'utf8')) as {
    deployments: Record<string, { backup: Record<string, unknown> }>;
  };
  doc.deployments[deployment.name]!.backup.offsite = offsiteConfig(s3, bucket, { keep: 7 });
  writeFileSync(deployment.configFile, YAML.stringify(doc));
  appendFileSync(
    deployment.envFile,
    `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\nOFFSITE_ENCRYPTION_KEY=${randomBytes(32).toString('hex')}\n`,
  );
  process.stdout.write(
    `bucket s3://${bucket}/${deployment.name}/ on ${s3.endpoint}; copies encrypted with a key generated into the env file\n`,
  );
}

async function startStack(
  name: string,
  cleanups: Array<() => Promise<unknown>>,
  choices: (port: number) => DeploymentChoices,
  options: StackOptions,
): Promise<DemoStack> {
  say('Checking tools (Temporal CLI, PostgreSQL)');
  const cliPath = await ensureTemporalCli();
  ensurePostgresTools();
  const work = path.join(root, '.day2', name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  say('Temporal dev server with the Web UI');
  let uiUrl = 'http://127.0.0.1:8233';
  let httpAddress: string | undefined;
  if (await isServerRunning(TEMPORAL_ADDRESS)) {
    await registerSearchAttributes(cliPath, TEMPORAL_ADDRESS, 'default');
    process.stdout.write(`using the Temporal server already running at ${TEMPORAL_ADDRESS}\n`);
  } else {
    const server = await startDevServer({ cliPath, dbFile: path.join(work, 'temporal.sqlite') });
    uiUrl = server.uiUrl;
    httpAddress = server.httpAddress;
    cleanups.push(() => server.stop());
    process.stdout.write(`started ${server.address}; Web UI ${server.uiUrl}\n`);
  }

  say('A private PostgreSQL cluster and the sample ledger service (release 1.0.0)');
  const pg = await startPostgres({ baseDir: work });
  cleanups.push(() => pg.stop());
  const port = await freePort();
  const deployment = await setUpLedgerDeployment({
    dir: path.join(work, 'ledger'),
    databaseUrl: await pg.createDatabase('ledger'),
    port,
    temporal: { address: TEMPORAL_ADDRESS, httpAddress, taskQueue: `day2-${name}`, uiUrl },
    ...choices(port),
  });
  cleanups.push(() => deployment.ctl('stop'));
  await must(deployment.ctl('start'), 'start');
  await must(deployment.ctl('seed', '--entries', '25'), 'seed');
  process.stdout.write(`ledger at ${deployment.baseUrl} with 25 signed vault entries; config ${deployment.configFile}\n`);
  if (options.offsite) await setUpOffsite(deployment, cleanups);

  say('A day2 worker');
  const worker = await createWorker(loadConfig(deployment.configFile), deployment.configFile);
  const workerRun = worker.run();
  cleanups.push(async () => {
    worker.shutdown();
    await workerRun;
  });

  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  const cli = path.join(root, 'src', 'client', 'main.ts');
  return {
    deployment,
    uiUrl,
    onCleanup: (fn) => cleanups.push(fn),
    async day2(...args) {
      process.stdout.write(`$ day2 ${args.join(' ')}\n`);
      const r = await execa(process.execPath, ['--import', tsx, cli, '--config', deployment.configFile, ...args], {
        reject: false,
        stdout: ['pipe', 'inherit'],
        stderr: 'inherit',
        env: { DAY2_USER: 'demo-operator' },
      });
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout };
    },
  };
}

/** Runs a demo story on a fresh stack, prints its wall time, cleans up, exits 0 or 1. */
export function runDemo(
  name: string,
  choices: (port: number) => DeploymentChoices,
  story: (stack: DemoStack) => Promise<void>,
  options: StackOptions = {},
): void {
  const started = Date.now();
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };
  startStack(name, cleanups, choices, options)
    .then(async (stack) => {
      await story(stack);
      say('Every workflow of this demo');
      await stack.day2('list', '--deployment', 'ledger');
      process.stdout.write(`\nWeb UI: ${stack.uiUrl}/namespaces/default/workflows?query=Day2Deployment%3D%22ledger%22\n`);
      process.stdout.write(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      if (process.argv.includes('--keep')) {
        process.stdout.write('\n--keep: everything stays up. Press Ctrl-C to stop and clean up.\n');
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      }
      await cleanup();
      process.exit(0);
    })
    .catch(async (err) => {
      process.stderr.write(`\ndemo failed: ${(err as Error).message}\n`);
      await cleanup();
      process.exit(1);
    });
}
