// Fleet operations end to end, on a Temporal server with PostgreSQL persistence (as in
// production): ten sample ledger deployments over two hosts (directories standing for two
// machines, each with its own host worker), a control worker running the workflows and the
// automated approver, the CLI as an operator runs it. Covers: no worker for a host, a fleet
// upgrade with a canary promoted by the approver in waves of 3, a release that breaks one
// deployment of wave 2 with --max-errors 0, and a host worker SIGKILLed plus the Temporal
// server restarted mid-wave; a single operation whose host worker vanished says so in
// `progress` and the Web UI until a worker there picks its step up.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { fleetStatusQuery, type FleetStatus } from '../../src/domain/fleet';
import { progressQuery } from '../../src/domain/messages';
import type { TemporalPostgres } from '../../src/temporal-postgres';
import { setUpFleet, startServices, type FleetFixture } from '../harness/fleet';
import { startPostgres, type PostgresCluster } from '../harness/postgres';
import { startTemporalOnPostgres } from '../harness/temporal-postgres';
import { dataFingerprint } from '../harness/upgrade-helpers';
import type { WorkerProcess } from '../harness/worker-process';

const HOSTS = ['west', 'east'];
/** In wave 2 of waves of 3 (no canary): the 5th deployment. Fails only on release 1.2.0. */
const SITE_CHECK_FAILS = 'fl-4';

let pg: PostgresCluster;
let server: TemporalPostgres;
let fleet: FleetFixture;
let client: Client;
let connection: Connection;
const hostWorkers = new Map<string, WorkerProcess>();
const fingerprints = new Map<string, Record<string, string>>();

before(async () => {
  pg = await startPostgres();
  server = await startTemporalOnPostgres();
  fleet = await setUpFleet({
    prefix: 'fl',
    hosts: HOSTS,
    count: 10,
    pg,
    // Short, so the test of a vanished host worker sees the workflow say so within seconds.
    temporal: {
      address: server.address,
      namespace: server.namespace,
      taskQueue: `day2-test-fleet-${process.pid}`,
      hostWorkerWaitSeconds: 3,
    },
    topLevel: { fleet: { promote: { policy: 'auto' } } },
    patch: (name, d) => {
      if (name !== SITE_CHECK_FAILS) return;
      // A site-specific check this deployment's operators added: release 1.2.0 breaks here only.
      (d.preflight as unknown[]).push({ kind: 'command', name: 'site check', command: '! grep -qx 1.2.0 VERSION' });
    },
  });
  await startServices(fleet.members, 5);
  for (const m of fleet.members) fingerprints.set(m.name, await dataFingerprint(m.deployment.databaseUrl));
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  await fleet.startControlWorker({}, ['--with-approver', '--approver-interval', '1']);
  hostWorkers.set('west', await fleet.startHostWorker('west'));
});

after(async () => {
  await connection?.close();
  await fleet?.teardown();
  await server?.stop();
  await pg?.stop();
});

const version = (name: string) => readFileSync(fleet.members.find((m) => m.name === name)!.deployment.versionFile, 'utf8').trim();
const names = () => fleet.members.map((m) => m.name);

async function fleetResult(stdout: string): Promise<FleetStatus> {
  const id = /started fleet \S+ on \d+ deployment\(s\): (\S+)/.exec(stdout)?.[1];
  assert.ok(id, `no fleet id in: ${stdout}`);
  return client.workflow.getHandle(id).query(fleetStatusQuery);
}

test('no worker for host east: the fleet and a single operation are refused (exit 3), nothing starts', async (t) => {
  const t0 = Date.now();
  const r = await fleet.cli(['fleet', 'backup', '--all']);
  assert.equal(r.exitCode, 3, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /no day2 worker serves host east \(task queue \S+@east\): nothing was started\. Start one there: day2 worker --host east/,
  );
  assert.doesNotMatch(r.stderr, /host west/, 'west has its worker');
  t.diagnostic(`fleet refusal ${Date.now() - t0} ms`);
  const single = await fleet.cli(['backup', '--deployment', 'fl-1']);
  t.diagnostic(`single refusal ${Date.now() - t0} ms`);
  assert.equal(single.exitCode, 3, single.stdout + single.stderr);
  let started = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowType = 'fleet'` })) started++;
  for await (const _ of client.workflow.list({ query: `WorkflowId = 'day2-fl-1'` })) started++;
  assert.equal(started, 0, 'no workflow was started');
});

test('a host worker refuses to start where none of its deployments is', async () => {
  // The control directory has no deployment files: a worker for east there would fail every activity.
  const { runCli } = await import('../harness/cli');
  const r = await runCli(fleet.controlConfig, ['worker', '--host', 'east']);
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr, /cannot reach any deployment of host east: fl-1: env file .* is missing/);
});

test('fleet upgrade with a canary, the promote gate decided by the automated approver, waves of 3: every deployment on 1.1.0 with its data', async () => {
  hostWorkers.set('east', await fleet.startHostWorker('east'));
  const r = await fleet.cli(['fleet', 'upgrade', '1.1.0', '--all', '--canary', '1', '--max-concurrency', '3', '--max-errors', '0']);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const s = await fleetResult(r.stdout);
  assert.deepEqual(
    s.rows.map((row) => [row.deployment, row.host, row.wave, row.state]),
    names().map((d, i) => [d, HOSTS[i % 2], i === 0 ? 0 : Math.ceil(i / 3), 'succeeded']),
  );
  for (const d of names()) {
    assert.equal(version(d), '1.1.0', d);
    const now = await dataFingerprint(fleet.members.find((m) => m.name === d)!.deployment.databaseUrl);
    assert.equal(now['public.entries'], fingerprints.get(d)!['public.entries'], `${d} kept its entries`);
  }
  const progress = await client.workflow.getHandle(s.fleetId).query(progressQuery);
  const gateStep = progress.steps.find((st) => st.name.startsWith('Promote gate'));
  assert.match(gateStep?.detail ?? '', /^approved by day2-approver@.*canary deployment\(s\) succeeded and passed \d+ check\(s\)/);
  // The table an operator reads.
  assert.match(r.stdout, /DEPLOYMENT\s+HOST\s+WAVE\s+STATE\s+VERSION\s+TIME/);
  assert.match(r.stdout, /fl-0\s+west\s+canary\s+succeeded\s+1\.1\.0/);
  const st = await fleet.cli(['fleet', 'status', s.fleetId]);
  assert.equal(st.exitCode, 0, st.stderr);
  assert.match(st.stdout, /fl-9\s+east\s+3\s+succeeded/);
});

test('a release that breaks one deployment of wave 2 with --max-errors 0: the fleet halts, it is rolled back by its own workflow, later waves untouched', async () => {
  const r = await fleet.cli(['fleet', 'upgrade', '1.2.0', '--all', '--max-concurrency', '3', '--max-errors', '0']);
  assert.equal(r.exitCode, 1, r.stdout + r.stderr);
  const s = await fleetResult(r.stdout);
  const state = Object.fromEntries(s.rows.map((row) => [row.deployment, row.state]));
  assert.equal(state[SITE_CHECK_FAILS], 'rolled-back');
  assert.equal(version(SITE_CHECK_FAILS), '1.1.0', 'rolled back to where it was');
  for (const d of ['fl-0', 'fl-1', 'fl-2', 'fl-3', 'fl-5']) {
    assert.equal(state[d], 'succeeded', d);
    assert.equal(version(d), '1.2.0', d);
  }
  for (const d of ['fl-6', 'fl-7', 'fl-8', 'fl-9']) {
    assert.equal(state[d], 'untouched', d);
    assert.equal(version(d), '1.1.0', d);
  }
  assert.match(s.halted ?? '', /1 deployment\(s\) failed, more than the error budget of 0/);
  assert.equal(s.outcome, 'halted');
  assert.match(r.stdout, /✗ halted: /);
  const rolledBack = await fleet.cli(['status', 'day2-fl-4']);
  assert.match(rolledBack.stdout, /ROLLED_BACK/);
});

test('SIGKILL of a host worker and a restart of the Temporal server mid-wave: the fleet backup finishes as an uncrashed one would', async () => {
  const pauses = path.join(fleet.root, 'pauses');
  writeFileSync(pauses, 'createBackup@end 60\n');
  const east = hostWorkers.get('east')!;
  await east.stop();
  const paused = await fleet.startHostWorker('east', { DAY2_TEST_PAUSE: `@${pauses}` });
  const before = new Map(fleet.members.map((m) => [m.name, backupsOf(m.deployment.backupDir)]));
  const r = await fleet.cli(['fleet', 'backup', '--all', '--max-concurrency', '4', '--detach']);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const id = /started fleet backup on 10 deployment\(s\): (\S+)/.exec(r.stdout)![1]!;
  await waitForLog(paused.logFile, /test pause/);
  await paused.kill();
  await server.killServer();
  await server.startServer();
  writeFileSync(pauses, '');
  hostWorkers.set('east', await fleet.startHostWorker('east'));
  const s = (await client.workflow.getHandle(id).result()) as FleetStatus;
  assert.deepEqual(
    s.rows.map((row) => row.state),
    names().map(() => 'succeeded'),
  );
  for (const m of fleet.members) {
    const added = backupsOf(m.deployment.backupDir).filter((f) => !before.get(m.name)!.includes(f));
    assert.equal(added.length, 1, `${m.name}: exactly one new backup, got ${added.join(', ')}`);
  }
});

test('a host worker that vanishes mid-operation: progress and the Web UI say so until one picks the step up again', async () => {
  const pauses = path.join(fleet.root, 'pauses-vanish');
  writeFileSync(pauses, 'createBackup@start 60\n');
  await hostWorkers.get('east')!.stop();
  const paused = await fleet.startHostWorker('east', { DAY2_TEST_PAUSE: `@${pauses}` });
  const r = await fleet.cli(['backup', '--deployment', 'fl-1', '--detach']);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const handle = client.workflow.getHandle('day2-fl-1');
  await waitForLog(paused.logFile, /test pause/);
  await paused.kill();
  // The heartbeat timeout (10 s) gives the step back to the queue; nobody takes it within
  // hostWorkerWaitSeconds (3 s): the workflow says so.
  const waiting = await waitFor(async () => (await handle.query(progressQuery)).hostWait, 60_000);
  assert.equal(waiting.host, 'east');
  const progress = await fleet.cli(['status', 'day2-fl-1']);
  assert.match(
    progress.stdout,
    /⚠ no day2 worker on host east has picked up this step since \d\d:\d\d:\d\d UTC \(task queue \S+@east\): is one running there\? Start it: day2 worker --host east/,
  );
  assert.match(await currentDetails(handle), /\*\*Waiting for a worker\*\*: no day2 worker on host east has picked up this step/);
  writeFileSync(pauses, '');
  hostWorkers.set('east', await fleet.startHostWorker('east'));
  const result = (await handle.result()) as { backup?: { file?: string } } | undefined;
  assert.ok(result, 'the backup finished');
  assert.equal((await handle.query(progressQuery)).hostWait, undefined, 'no longer waiting');
  assert.doesNotMatch(await currentDetails(handle), /Waiting for a worker/);
});

test("a scheduled backup of a deployment on host east runs on east's worker (the schedule carries the host)", async () => {
  const m = fleet.members.find((x) => x.name === 'fl-3')!;
  assert.equal(m.host, 'east');
  const before = backupsOf(m.deployment.backupDir);
  const created = await fleet.cli(['schedule', 'backup', '--deployment', 'fl-3', '--every', '1d', '--name', 'nightly']);
  assert.equal(created.exitCode, 0, created.stdout + created.stderr);
  const triggered = await fleet.cli(['schedule', 'trigger', 'nightly', '--deployment', 'fl-3']);
  assert.equal(triggered.exitCode, 0, triggered.stdout + triggered.stderr);
  const id = /started (\S+)/.exec(triggered.stdout)?.[1];
  assert.ok(id, triggered.stdout);
  // The control worker's directory has none of fl-3's files: only east's worker can back it up.
  const result = (await client.workflow.getHandle(id).result()) as { outcome?: string };
  assert.equal(result.outcome, 'backed-up', JSON.stringify(result));
  assert.equal(backupsOf(m.deployment.backupDir).filter((f) => !before.includes(f)).length, 1, 'one new backup on east');
  const removed = await fleet.cli(['schedule', 'remove', 'nightly', '--deployment', 'fl-3']);
  assert.equal(removed.exitCode, 0, removed.stdout + removed.stderr);
});

/** What the Web UI shows as the workflow's current details (its metadata query). */
async function currentDetails(handle: ReturnType<Client['workflow']['getHandle']>): Promise<string> {
  const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return meta.currentDetails ?? '';
}

async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function backupsOf(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.dump'));
  } catch {
    return [];
  }
}

async function waitForLog(file: string, re: RegExp): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if (re.test(readFileSync(file, 'utf8'))) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never saw ${re} in ${file}`);
}
