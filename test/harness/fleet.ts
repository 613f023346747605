// A fleet for end-to-end tests: sample ledger deployments spread over hosts, each host a
// directory of its own (standing for a machine: a host's worker finds only its own
// deployments' files there), plus a control directory where the CLI and the workflow worker
// run with no deployment files at all. Every directory holds the same day2.yaml, its paths
// relative to it, as an operator would copy one file to every machine.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import YAML from 'yaml';
import { must, setUpLedgerDeployment, type LedgerDeployment } from '../../examples/ledger-deployment';
import { runCli, type CliResult } from './cli';
import { freePort } from './free-port';
import type { PostgresCluster } from './postgres';
import { harvestEnvSecrets } from './secret-scan';
import { spawnWorker, type WorkerProcess } from './worker-process';

export interface FleetMemberFixture {
  name: string;
  host: string;
  deployment: LedgerDeployment;
}

export interface FleetFixture {
  root: string;
  controlConfig: string;
  members: FleetMemberFixture[];
  configOf(host: string): string;
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  startHostWorker(host: string, env?: Record<string, string>): Promise<WorkerProcess>;
  /** `args`: more `day2 worker` arguments (e.g. --with-approver). */
  startControlWorker(env?: Record<string, string>, args?: string[]): Promise<WorkerProcess>;
  teardown(): Promise<void>;
}

export async function setUpFleet(opts: {
  prefix: string;
  hosts: string[];
  count: number;
  pg: PostgresCluster;
  /** hostWorkerWaitSeconds: written to day2.yaml only (the members' own files don't need it). */
  temporal: { address: string; namespace: string; taskQueue: string; hostWorkerWaitSeconds?: number };
  /** Changes a member's day2.yaml block (e.g. a check of its own). */
  patch?: (name: string, d: Record<string, unknown>) => void;
  topLevel?: Record<string, unknown>;
}): Promise<FleetFixture> {
  const root = mkdtempSync(path.join(os.tmpdir(), `day2-${opts.prefix}-`));
  const members: FleetMemberFixture[] = [];
  const deployments: Record<string, unknown> = {};
  for (let i = 0; i < opts.count; i++) {
    const name = `${opts.prefix}-${i}`;
    const host = opts.hosts[i % opts.hosts.length]!;
    const deployment = await setUpLedgerDeployment({
      dir: path.join(root, host, name),
      name,
      databaseUrl: await opts.pg.createDatabase(name.replace(/-/g, '_')),
      port: await freePort(),
      temporal: opts.temporal,
      autoRollback: true,
    });
    const own = YAML.parse(readFileSync(deployment.configFile, 'utf8')) as { deployments: Record<string, Record<string, unknown>> };
    const d = own.deployments[name]!;
    // Relative to the host's directory, where this deployment's own directory lies.
    const under = (p: string) => path.join(name, p);
    const runtime = d.runtime as { cwd: string; logFiles: Record<string, string> };
    deployments[name] = {
      ...d,
      host,
      labels: { tier: i % 3 === 0 ? 'gold' : 'standard' },
      envFile: under(d.envFile as string),
      versionFile: under(d.versionFile as string),
      backup: { ...(d.backup as object), dir: under((d.backup as { dir: string }).dir) },
      runtime: {
        ...runtime,
        cwd: under(runtime.cwd),
        logFiles: Object.fromEntries(Object.entries(runtime.logFiles).map(([k, v]) => [k, under(v)])),
      },
    };
    opts.patch?.(name, deployments[name] as Record<string, unknown>);
    members.push({ name, host, deployment });
  }
  const config = YAML.stringify({
    temporal: { ...opts.temporal, uiUrl: 'http://127.0.0.1:8233' },
    ...opts.topLevel,
    deployments,
  });
  const configOf = (dir: string) => {
    mkdirSync(path.join(root, dir), { recursive: true });
    const file = path.join(root, dir, 'day2.yaml');
    writeFileSync(file, config);
    return file;
  };
  for (const host of opts.hosts) configOf(host);
  const controlConfig = configOf('control');
  const workers: WorkerProcess[] = [];
  const env: Record<string, string> = process.env.DAY2_WORKFLOW_BUNDLE ? { DAY2_WORKFLOW_BUNDLE: process.env.DAY2_WORKFLOW_BUNDLE } : {};
  const logDir = process.env.DAY2_TEST_LOG_DIR ? path.join(process.env.DAY2_TEST_LOG_DIR, opts.prefix) : path.join(root, 'logs');
  const fixture: FleetFixture = {
    root,
    controlConfig,
    members,
    configOf: (host) => path.join(root, host, 'day2.yaml'),
    cli: (args, extraEnv) => runCli(controlConfig, args, extraEnv),
    async startHostWorker(host, extraEnv = {}) {
      const w = await spawnWorker(path.join(root, host, 'day2.yaml'), { logDir, env: { ...env, ...extraEnv }, args: ['--host', host] });
      workers.push(w);
      return w;
    },
    async startControlWorker(extraEnv = {}, args = []) {
      const w = await spawnWorker(controlConfig, { logDir, env: { ...env, ...extraEnv }, args });
      workers.push(w);
      return w;
    },
    async teardown() {
      for (const w of workers) await w.stop().catch(() => {});
      for (const m of members) {
        harvestEnvSecrets(m.deployment.envFile);
        await m.deployment.ctl('stop').catch(() => {});
      }
      if (!process.env.DAY2_KEEP_TEST_DIRS) rmSync(root, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** Starts each member's service and seeds it. */
export async function startServices(members: readonly FleetMemberFixture[], entries: number): Promise<void> {
  await Promise.all(
    members.map(async (m) => {
      await must(m.deployment.ctl('start'), `start ${m.name}`);
      await must(m.deployment.ctl('seed', '--entries', String(entries)), `seed ${m.name}`);
    }),
  );
}
