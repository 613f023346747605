// One end-to-end fixture: a real PostgreSQL, a real Temporal server, a real ledger
// service run by the `commands` runtime, a day2 worker process, and the CLI. Each test
// file uses its own deployment name and task queue, so files never share workflows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { must, setUpLedgerDeployment, type LedgerDeployment } from '../../examples/ledger-deployment';
import { loadConfig, type Day2Config } from '../../src/config';
import { mutatingWorkflowId } from '../../src/domain/workflow-ids';
import { runCli, type CliResult } from './cli';
import { freePort } from './free-port';
import { startPostgres, type PostgresCluster } from './postgres';
import { startTemporal, type TestTemporal } from './temporal';
import { harvestEnvSecrets } from './secret-scan';
import { spawnWorker, type WorkerProcess } from './worker-process';

export interface E2E {
  pg: PostgresCluster;
  temporal: TestTemporal;
  deployment: LedgerDeployment;
  config: Day2Config;
  workflowId: string;
  worker?: WorkerProcess;
  dir: string;
  /** `env`: extra variables for this worker only (e.g. DAY2_TEST_PAUSE). */
  startWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  cli(...args: string[]): Promise<CliResult>;
  /** Starts the service and seeds `entries` vault entries (every file's first step). */
  startService(entries: number): Promise<void>;
  /** `day2 --json backup …`, which must succeed: the backup's file name. */
  backup(...args: string[]): Promise<string>;
  teardown(): Promise<void>;
}

export async function startE2E(
  name: string,
  opts: { version?: string; keep?: number; autoRollback?: boolean; extra?: Record<string, unknown> } = {},
): Promise<E2E> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `day2-${name}-`));
  const pg = await startPostgres();
  const temporal = await startTemporal();
  const dbName = name.replace(/-/g, '_');
  const deployment = await setUpLedgerDeployment({
    dir,
    name,
    databaseUrl: await pg.createDatabase(dbName),
    port: await freePort(),
    version: opts.version,
    keep: opts.keep,
    autoRollback: opts.autoRollback,
    extra: opts.extra,
    temporal: {
      address: temporal.address,
      httpAddress: temporal.httpAddress,
      namespace: temporal.namespace,
      taskQueue: `day2-test-${name}-${process.pid}`,
    },
  });
  const config = loadConfig(deployment.configFile);
  const env: Record<string, string> = {};
  if (process.env.DAY2_WORKFLOW_BUNDLE) env.DAY2_WORKFLOW_BUNDLE = process.env.DAY2_WORKFLOW_BUNDLE;
  const e2e: E2E = {
    pg,
    temporal,
    deployment,
    config,
    dir,
    workflowId: mutatingWorkflowId(name),
    async startWorker(extra = {}) {
      // Under scripts/test.ts worker logs outlive the test so the secret scan can read them.
      const logDir = process.env.DAY2_TEST_LOG_DIR ? path.join(process.env.DAY2_TEST_LOG_DIR, name) : path.join(dir, 'logs');
      e2e.worker = await spawnWorker(deployment.configFile, { logDir, env: { ...env, ...extra } });
      return e2e.worker;
    },
    cli: (...args) => runCli(deployment.configFile, args),
    async startService(entries) {
      await must(deployment.ctl('start'), 'start');
      await must(deployment.ctl('seed', '--entries', String(entries)), 'seed');
    },
    async backup(...args) {
      const r = await runCli(deployment.configFile, ['--json', 'backup', ...args]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      return (JSON.parse(r.stdout) as { result: { file: string } }).result.file;
    },
    async teardown() {
      harvestEnvSecrets(deployment.envFile);
      await e2e.worker?.stop().catch(() => {});
      await deployment.ctl('stop').catch(() => {});
      await temporal.stop().catch(() => {});
      await pg.stop().catch(() => {});
      if (!process.env.DAY2_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
  return e2e;
}
