// The upgrade and its automatic rollback, driven by the real workflows against the compose
// adapter — argv only, no Docker engine: a recording runner answers every `docker …`
// command, the database activities (and preflight, which needs the database) are stand-ins
// that log what they would do, and a tiny HTTP server plays the service (ready and reporting
// whatever release the env file names, except a broken one). The recorded timeline must
// follow the runbook's order.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { checksActivities, type CheckSetInput } from '../../src/activities/checks';
import { healthActivities } from '../../src/activities/runtime/health';
import { notifyActivities } from '../../src/activities/notify';
import { offsiteActivities } from '../../src/activities/offsite';
import { releaseFileActivities } from '../../src/activities/runtime/release-files';
import { runtimeActivities } from '../../src/activities/runtime';
import type { CommandRunner } from '../../src/activities/runtime/adapter';
import { parseConfig, type Day2Config } from '../../src/config';
import type { UpgradeResult } from '../../src/domain/release-types';
import type { BackupManifest } from '../../src/domain/types';
import { createLogger } from '../../src/logger';
import { startTemporal, testWorker, type TestTemporal } from '../harness/temporal';
import { activityDeps } from '../../src/activities/shared/deps';

const logger = createLogger('test', 'silent');
// The SDK's own INFO lines (worker state, the expected NotReady) would bury the report.
Runtime.install({ logger: new DefaultLogger('ERROR') });
const BROKEN = '1.3.0';

let dir: string;
let envFile: string;
let temporal: TestTemporal;
let service: http.Server;
let config: Day2Config;
let dc: string[];
const timeline: string[][] = [];

const appVersion = () => /^APP_VERSION=(.*)$/m.exec(readFileSync(envFile, 'utf8'))?.[1] ?? '';

/** Records every command; `docker compose …` is shortened to `dc …`, and the image tag a
 * command selects through its environment is noted after it as `(APP_VERSION=…)`. */
const runner: CommandRunner = async (command, opts) => {
  assert.ok(Array.isArray(command), 'compose commands are argv, never shell strings');
  const argv = [...command];
  const entry = argv.join(' ').startsWith(dc.join(' ')) ? ['dc', ...argv.slice(dc.length)] : argv;
  const tag = opts.env?.APP_VERSION;
  timeline.push(tag ? [...entry, `(APP_VERSION=${tag})`] : entry);
  return { exitCode: 0, stdout: '', stderr: '' };
};

/** Database activities that only say what they would do (the real ones are covered by the
 * PostgreSQL tests); the manifest is what a real backup of release `appVersion` records. */
function standInDatabaseActivities() {
  const manifests = new Map<string, BackupManifest>();
  return {
    async detectRunningVersion() {
      return appVersion();
    },
    async createBackup(input: { fileName: string; createdAt: string; appVersion?: string; preUpgradeVersion?: string }) {
      timeline.push(['<pg_dump -Fc>', input.fileName, `preUpgradeVersion=${input.preUpgradeVersion}`]);
      const manifest: BackupManifest = {
        file: input.fileName,
        deployment: 'argv',
        database: 'ledger',
        serverVersion: '16',
        appVersion: input.appVersion ?? null,
        sizeBytes: 1,
        sha256: '0'.repeat(64),
        createdAt: input.createdAt,
        workflowId: 'w',
        runId: 'r',
        tocEntries: 1,
        preUpgradeVersion: input.preUpgradeVersion,
      };
      manifests.set(manifest.file, manifest);
      return { manifest, reused: false };
    },
    async applyRetention() {
      return { deleted: [] };
    },
    async verifyBackup({ file }: { file: string }) {
      return manifests.get(file)!;
    },
    async stageRestore({ file, stagingDb }: { file: string; stagingDb: string }) {
      timeline.push(['<pg_restore into staging>', file]);
      return { stagingDb };
    },
    async swapInRestoredDatabase() {
      timeline.push(['<swap in restored database>']);
      return { alreadyDone: false };
    },
    async countKeptCopies() {
      return { count: 1, bytes: 1, copies: [{ kind: 'database' as const, name: 'ledger_pre_restore_x', bytes: 1 }] };
    },
    // Preflight's built-in checks connect to the database; the other check sets are real.
    async runDeploymentChecks(input: CheckSetInput) {
      if (!('set' in input && input.set === 'preflight'))
        return checksActivities(activityDeps({ config, logger })).runDeploymentChecks(input);
      timeline.push(['<preflight checks>']);
      return [];
    },
  };
}

/** Plays the service: ready unless the env file names the broken release. */
async function startService(): Promise<string> {
  service = http.createServer((req, res) => {
    const version = appVersion();
    if (req.url === '/ready') res.writeHead(version === BROKEN ? 503 : 200).end(version === BROKEN ? 'flags cache warming' : 'ok');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version }));
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
}

async function runWorkflow(type: 'upgrade', args: unknown[], fn: () => Promise<void> = async () => {}): Promise<UpgradeResult> {
  const taskQueue = `argv-${process.pid}-${Date.now()}`;
  const { worker, connection } = await testWorker(temporal, {
    taskQueue,
    activities: {
      ...checksActivities(activityDeps({ config, logger })),
      ...healthActivities(activityDeps({ config, logger })),
      ...runtimeActivities(activityDeps({ config, logger }), runner),
      ...releaseFileActivities(activityDeps({ config, logger })),
      ...notifyActivities(activityDeps({ config, logger })),
      ...offsiteActivities(activityDeps({ config, logger })), // no backup.offsite here: the copy is skipped
      ...standInDatabaseActivities(),
    },
  });
  try {
    return await worker.runUntil(async () => {
      await fn();
      return temporal.client.workflow.execute(type, { taskQueue, workflowId: `day2-argv-${taskQueue}`, args }) as Promise<UpgradeResult>;
    });
  } finally {
    await connection.close();
  }
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'day2-argv-'));
  envFile = path.join(dir, '.env');
  temporal = await startTemporal();
  const baseUrl = await startService();
  config = parseConfig(
    {
      deployments: {
        argv: {
          runtime: {
            kind: 'compose',
            cwd: dir,
            project: 'ledger',
            databaseService: 'db',
            registry: { host: 'ghcr.io', usernameVar: 'REGISTRY_USER', passwordVar: 'REGISTRY_PASSWORD' },
          },
          envFile: '.env',
          versionFile: 'VERSION',
          deprecatedVars: ['LEGACY_AUTH'],
          health: { ready: `${baseUrl}/ready`, version: `${baseUrl}/version`, timeoutSeconds: 2 },
          backup: { dir: 'backups' },
          upgrade: { autoRollback: true },
        },
      },
    },
    dir,
  );
  dc = ['docker', 'compose', '--env-file', envFile, '-f', 'docker-compose.yml', '-p', 'ledger'];
});

after(async () => {
  await new Promise((resolve) => service?.close(resolve));
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function resetDeployment(version: string): void {
  timeline.length = 0;
  writeFileSync(
    envFile,
    `# ledger\nAPP_VERSION=${version}\nREGISTRY_USER=deploy-bot\nREGISTRY_PASSWORD=pw-registry\nDATABASE_URL_MIGRATE=postgres://owner:pw@db/ledger\nLEGACY_AUTH=1\n`,
  );
  writeFileSync(path.join(dir, 'VERSION'), `${version}\n`);
}

describe("compose adapter: the upgrade workflow's full sequence (argv only, no Docker engine)", () => {
  it('follows the runbook: login, pull, backup, stop worker, migrate (new image), write version, restart, wait --wait', async () => {
    resetDeployment('1.2.0');
    const result = await runWorkflow('upgrade', [{ deployment: 'argv', version: '1.2.1' }]);
    assert.equal(result.outcome, 'upgraded', result.reason);
    assert.deepEqual(
      timeline.map((c) => c.slice(0, c[0] === '<pg_dump -Fc>' ? 1 : undefined)),
      [
        ['<preflight checks>'], // before anything is pulled or stopped
        ['docker', 'login', 'ghcr.io', '-u', 'deploy-bot', '--password-stdin'],
        ['dc', 'pull', '(APP_VERSION=1.2.1)'],
        ['<pg_dump -Fc>'],
        ['dc', 'stop', 'worker'],
        ['dc', 'run', '--rm', '-e', 'DATABASE_URL', 'api', 'migrate', '(APP_VERSION=1.2.1)'],
        ['dc', 'stop', 'api', 'worker'],
        ['dc', 'up', '-d', '--wait', '--wait-timeout', '120'],
        ['<preflight checks>'],
      ],
    );
    assert.equal(timeline[3]!.at(-1), 'preUpgradeVersion=1.2.0');
    assert.equal(appVersion(), '1.2.1', 'the restart interpolates the new tag from the env file');
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8'), '1.2.1\n');
    assert.match(
      readFileSync(envFile, 'utf8'),
      /# removed in 1\.2\.1: commented out by day2 upgrade 1\.2\.0 → 1\.2\.1 on \d{4}-\d{2}-\d{2}\n# LEGACY_AUTH=1\n/,
    );
    assert.ok(!timeline.flat().join(' ').includes('pw-registry') && !timeline.flat().join(' ').includes('owner:pw'), 'no secret on argv');
  });

  it('a release that never gets ready is rolled back: restore with the previous tag, then up --wait again', async () => {
    resetDeployment('1.2.1');
    const result = await runWorkflow('upgrade', [{ deployment: 'argv', version: BROKEN }]);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(result.reason ?? '', /Wait for readiness failed: argv not ready after 2 s: 503 flags cache warming/);
    assert.deepEqual(
      timeline.map((c) => (c[0]!.startsWith('<') ? [c[0]!] : c)),
      [
        ['<preflight checks>'],
        ['docker', 'login', 'ghcr.io', '-u', 'deploy-bot', '--password-stdin'],
        ['dc', 'pull', '(APP_VERSION=1.3.0)'],
        ['<pg_dump -Fc>'],
        ['dc', 'stop', 'worker'],
        ['dc', 'run', '--rm', '-e', 'DATABASE_URL', 'api', 'migrate', '(APP_VERSION=1.3.0)'],
        ['dc', 'stop', 'api', 'worker'],
        ['dc', 'up', '-d', '--wait', '--wait-timeout', '120'],
        // readiness never came: the rollback, pulling the previous release first
        ['docker', 'login', 'ghcr.io', '-u', 'deploy-bot', '--password-stdin'],
        ['dc', 'pull', '(APP_VERSION=1.2.1)'],
        ['<pg_restore into staging>'],
        ['dc', 'stop', 'api', 'worker'],
        ['<swap in restored database>'],
        ['dc', 'up', '-d', '--wait', '--wait-timeout', '120'],
      ],
    );
    assert.equal(appVersion(), '1.2.1');
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8'), '1.2.1\n');
  });
});
