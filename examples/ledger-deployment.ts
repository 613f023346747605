// Sets up a deployment of the sample ledger service in a directory: its database on a
// given PostgreSQL cluster, an env file with fresh secrets, a VERSION file, a day2.yaml
// that drives it through the `commands` runtime, migrations and seed data. Used by the
// demo and the end-to-end tests; secrets are generated here and never printed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';

const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const LEDGER_CTL = path.join(repoRoot, 'examples', 'ledger', 'src', 'ctl.ts');
/** Lists every variable the ledger requires; preflight checks the env file against it. */
export const LEDGER_ENV_EXAMPLE = path.join(repoRoot, 'examples', 'ledger', '.env.example');

export interface LedgerDeploymentOptions {
  dir: string;
  /** URL of the (empty, existing) database the service will own. */
  databaseUrl: string;
  port: number;
  version?: string;
  temporal: { address: string; httpAddress?: string; namespace?: string; taskQueue: string; uiUrl?: string };
  name?: string;
  keep?: number;
  autoRollback?: boolean;
  /** How long day2 waits for readiness (a broken release is given up on after this). */
  readyTimeoutSeconds?: number;
  /** Extra top-level deployment settings merged into day2.yaml (gates, …). */
  extra?: Record<string, unknown>;
}

export interface LedgerDeployment {
  name: string;
  dir: string;
  envFile: string;
  versionFile: string;
  configFile: string;
  backupDir: string;
  baseUrl: string;
  databaseUrl: string;
  /** Runs the ledger's control CLI against this deployment. */
  ctl(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }>;
}

/** node's arguments that run the ledger's control CLI: the build named by
 * $DAY2_TEST_LEDGER_BUILD (the test runner makes one per run: scripts/ledger-build.ts),
 * else the TypeScript source through tsx. */
export function ctlArgv(): string[] {
  const built = process.env.DAY2_TEST_LEDGER_BUILD;
  if (built) return [path.join(built, 'ctl.mjs')];
  return ['--import', fileURLToPath(import.meta.resolve('tsx')), LEDGER_CTL];
}

/** The shell command that runs the ledger's control CLI for this env file. */
export function ctlCommand(envFile: string, args: string): string {
  const argv = [process.execPath, ...ctlArgv()].map((a) => `"${a}"`).join(' ');
  return `${argv} ${args} --env-file "${envFile}"`;
}

export function newSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** Tests only: appends secret values the test generated to $DAY2_TEST_SECRETS_FILE (one JSON
 * string a line, 0600) so the suite's last test can prove none reached a workflow history
 * or a log (test/after-all/secret-scan.test.ts). Does nothing when that variable is unset. */
export function recordTestSecrets(...values: Array<string | undefined>): void {
  const file = process.env.DAY2_TEST_SECRETS_FILE;
  const lines = values.filter((v): v is string => Boolean(v)).map((v) => `${JSON.stringify(v)}\n`);
  if (file && lines.length) appendFileSync(file, lines.join(''), { mode: 0o600 });
}

export async function setUpLedgerDeployment(opts: LedgerDeploymentOptions): Promise<LedgerDeployment> {
  const name = opts.name ?? 'ledger';
  const version = opts.version ?? '1.0.0';
  mkdirSync(opts.dir, { recursive: true });
  const envFile = path.join(opts.dir, '.env');
  const versionFile = path.join(opts.dir, 'VERSION');
  const backupDir = path.join(opts.dir, 'backups');
  const configFile = path.join(opts.dir, 'day2.yaml');
  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const apiKeySecret = randomBytes(32).toString('hex');
  const signingKey = newSigningKey();
  recordTestSecrets(apiKeySecret, signingKey);

  writeFileSync(
    envFile,
    [
      '# ledger service settings (managed by day2: edits keep comments and order)',
      `DATABASE_URL=${opts.databaseUrl}`,
      `PORT=${opts.port}`,
      `LEDGER_VERSION=${version}`,
      `API_KEY_SECRET=${apiKeySecret}`,
      `VAULT_SIGNING_KEY=${signingKey}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(versionFile, `${version}\n`);

  const ctl = (args: string) => ctlCommand(envFile, args);
  const config = {
    temporal: {
      address: opts.temporal.address,
      ...(opts.temporal.httpAddress ? { httpAddress: opts.temporal.httpAddress } : {}),
      namespace: opts.temporal.namespace ?? 'default',
      taskQueue: opts.temporal.taskQueue,
      uiUrl: opts.temporal.uiUrl ?? 'http://127.0.0.1:8233',
    },
    deployments: {
      [name]: {
        runtime: {
          kind: 'commands',
          cwd: '.',
          start: ctl('start'),
          stop: ctl('stop'),
          stopWorker: ctl('stop --service worker'),
          pull: ctl('pull {version}'),
          present: ctl('present {version}'),
          migrate: ctl('migrate {version}'),
          rehashKeys: ctl('rehash-keys'),
          version: ctl('version'),
          status: ctl('status'),
          // The ledger's ctl writes each service's output to run/<service>.log.
          logFiles: { api: 'run/api.log', worker: 'run/worker.log' },
        },
        envFile: '.env',
        versionFile: 'VERSION',
        versionVar: 'LEDGER_VERSION',
        deprecatedVars: ['LEDGER_LEGACY_AUTH'],
        health: {
          live: `${baseUrl}/health`,
          ready: `${baseUrl}/health/ready`,
          version: `${baseUrl}/conformance`,
          versionField: 'version',
          timeoutSeconds: opts.readyTimeoutSeconds ?? 30,
        },
        backup: { dir: 'backups', keep: opts.keep ?? 5 },
        verify: [
          { kind: 'command', name: 'vault chain intact', command: ctl(`scan --keyring "${path.join(backupDir, 'keyring.json')}"`) },
          { kind: 'http', name: 'service ready', url: `${baseUrl}/health/ready`, expectStatus: 200 },
        ],
        // day2's built-in checks come first (env file against envExample, database, …).
        preflight: [
          { kind: 'http', name: 'service ready', url: `${baseUrl}/health/ready`, expectStatus: 200 },
          { kind: 'command', name: 'migrations not pending', command: ctl('migrations') },
        ],
        envExample: LEDGER_ENV_EXAMPLE,
        upgrade: { autoRollback: opts.autoRollback ?? false },
        ...opts.extra,
      },
    },
  };
  writeFileSync(configFile, YAML.stringify(config));

  const deployment: LedgerDeployment = {
    name,
    dir: opts.dir,
    envFile,
    versionFile,
    configFile,
    backupDir,
    baseUrl,
    databaseUrl: opts.databaseUrl,
    async ctl(...args: string[]) {
      const result = await execa(process.execPath, [...ctlArgv(), ...args, '--env-file', envFile], { reject: false });
      return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 1 };
    },
  };
  await must(deployment.ctl('migrate', version), 'migrate');
  return deployment;
}

export async function must(p: Promise<{ stdout: string; stderr: string; exitCode: number }>, what: string): Promise<string> {
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`ledger ${what} failed (exit ${r.exitCode}): ${r.stderr.split('\n').slice(-5).join('\n')}`);
  return r.stdout;
}
