// The fleet workflow's rate control on a real Temporal server with stand-in children
// (test/workflows/fleet-stand-ins.ts): waves and their order, the canary and promote gate,
// the error budget, busy deployments, cancellation, and continue-as-new past 200 children.
// The real children on real deployments are exercised by the e2e fleet test.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { fleetStatusQuery, type FleetInput, type FleetStatus } from '../../src/domain/fleet';
import { decideUpdate, progressQuery } from '../../src/domain/messages';
import { mutatingWorkflowId } from '../../src/domain/workflow-ids';
import type { fleet } from '../../src/workflows/fleet';
import { startTemporal, type TestTemporal } from '../harness/temporal';

const taskQueue = `day2-test-fleet-${process.pid}`;
let temporal: TestTemporal;
let worker: Worker;
let running: Promise<void>;
let soakChecks = 0;
let failSoakOn = '';

before(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  temporal = await startTemporal();
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fleet-stand-ins.ts', import.meta.url)),
    activities: {
      async runDeploymentChecks(input: { deployment: string }) {
        soakChecks++;
        return [{ name: 'stand-in verify', ok: input.deployment !== failSoakOn, detail: 'stand-in' }];
      },
    },
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await temporal?.stop();
});

let n = 0;
function fleetInput(names: string[], over: Partial<FleetInput> = {}): FleetInput {
  return {
    fleetId: `day2-fleet-test-${process.pid}-${++n}`,
    operation: 'upgrade',
    version: '2.0.0',
    // One host (the worker's own queue): host routing is the e2e fleet test's part.
    members: names.map((name) => ({ name, host: 'local' })),
    canary: 0,
    soakSeconds: 0,
    promoteTimeoutSeconds: 600,
    maxConcurrency: { count: 3 },
    maxErrors: { count: 0 },
    ifBusy: 'skip',
    busyWaitSeconds: 0,
    ...over,
  };
}

const uniq = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${n + 1}-${i}`);

async function startFleet(input: FleetInput) {
  return temporal.client.workflow.start<typeof fleet>('fleet', { taskQueue, workflowId: input.fleetId, args: [input] });
}

/** Every wave starts only after the wave before it ended. */
function assertWavesInOrder(s: FleetStatus): void {
  const waves = Math.max(...s.rows.map((r) => r.wave));
  for (let w = 1; w <= waves; w++) {
    const prevEnd = Math.max(...s.rows.filter((r) => r.wave === w - 1 && r.endedAt).map((r) => Date.parse(r.endedAt!)));
    for (const r of s.rows.filter((x) => x.wave === w && x.startedAt)) {
      assert.ok(Date.parse(r.startedAt!) >= prevEnd, `${r.deployment} (wave ${w}) started before wave ${w - 1} ended`);
    }
  }
}

async function approveWhenWaiting(workflowId: string, gate: string, approve = true): Promise<void> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  for (let i = 0; i < 200; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.gate?.name === gate) {
      await handle.executeUpdate(decideUpdate, { args: [{ gate, approve, by: 'test', reason: 'canaries look fine' }] });
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const s = await handle.query(fleetStatusQuery).catch((e: Error) => e.message);
  const p = await handle.query(progressQuery).catch((e: Error) => e.message);
  assert.fail(`fleet ${workflowId} never waited at ${gate}: ${JSON.stringify({ s, p })}`);
}

test('10 deployments, a canary, the promote gate approved, waves of 3: every one upgraded, wave by wave', async () => {
  const names = uniq('slow-ok', 10);
  const input = fleetInput(names, { canary: 1, soakSeconds: 2 });
  const handle = await startFleet(input);
  await approveWhenWaiting(input.fleetId, 'promote-fleet');
  const s = await handle.result();
  assert.deepEqual(
    s.rows.map((r) => [r.deployment, r.wave, r.state]),
    names.map((d, i) => [d, i === 0 ? 0 : Math.ceil(i / 3), 'succeeded']),
  );
  assert.ok(soakChecks >= 1, "the soak ran the canary's checks");
  assert.equal(s.halted, undefined);
  assertWavesInOrder(s);
  // Each child ran under its deployment's one-operation id.
  assert.deepEqual(
    s.rows.map((r) => r.workflowId),
    names.map(mutatingWorkflowId),
  );
  assert.equal(s.outcome, 'finished');
  assert.match(s.summary ?? '', /^finished; 10 succeeded/);
});

test('members on backup.method pgbackrest get pgBackRest backups (never waiting at the restart gate) and pgBackRest pre-upgrade backups', async () => {
  const [dump, pitr] = uniq('pgbr-', 2);
  const members = [
    { name: dump!, host: 'local' },
    { name: pitr!, host: 'local', pgbackrest: { type: 'incr' as const } },
  ];
  for (const operation of ['backup', 'upgrade'] as const) {
    const handle = await startFleet(fleetInput([], { operation, members }));
    const s = await handle.result();
    const detail = Object.fromEntries(s.rows.map((r) => [r.deployment, r.detail]));
    assert.deepEqual(
      s.rows.map((r) => r.state),
      ['succeeded', 'succeeded'],
    );
    assert.equal(detail[dump!], undefined, `${operation}: the pg_dump member is as before`);
    assert.equal(detail[pitr!], operation === 'backup' ? 'pgbackrest incr, refuses the restart gate' : 'pgbackrest incr');
  }
});

test('a release that breaks one deployment of wave 2 with --max-errors 0 halts the fleet; later waves untouched', async () => {
  const names = uniq('ok', 9);
  // Waves of 3 (no canary): the 5th deployment is in the second wave.
  names[4] = `broken-${names[4]}`;
  const s = await (await startFleet(fleetInput(names))).result();
  const byName = new Map(s.rows.map((r) => [r.deployment, r]));
  assert.equal(byName.get(names[4]!)?.state, 'rolled-back');
  assert.match(byName.get(names[4]!)?.detail ?? '', /health check failed/);
  for (const d of names.slice(0, 3)) assert.equal(byName.get(d)?.state, 'succeeded');
  for (const d of [names[3], names[5]]) assert.equal(byName.get(d!)?.state, 'succeeded', 'its wave-mates ran to their end');
  for (const d of names.slice(6)) assert.equal(byName.get(d)?.state, 'untouched');
  assert.match(s.halted ?? '', /1 deployment\(s\) failed, more than the error budget of 0/);
});

test('--max-errors 20% lets one failure of ten pass', async () => {
  const names = uniq('ok', 10);
  names[1] = `broken-${names[1]}`;
  const s = await (await startFleet(fleetInput(names, { maxErrors: { percent: 20 }, maxConcurrency: { percent: 50 } }))).result();
  assert.equal(s.concurrency, 5);
  assert.equal(s.maxErrors, 2);
  assert.equal(s.rows.filter((r) => r.state === 'succeeded').length, 9);
  assert.equal(s.halted, undefined);
});

test('a failing canary halts before the promote gate: nothing else starts', async () => {
  const names = uniq('ok', 5);
  names[0] = `broken-${names[0]}`;
  const s = await (await startFleet(fleetInput(names, { canary: 1, maxErrors: { count: 3 } }))).result();
  assert.equal(s.rows[0]?.state, 'rolled-back');
  assert.deepEqual(
    s.rows.slice(1).map((r) => r.state),
    ['untouched', 'untouched', 'untouched', 'untouched'],
  );
  assert.ok(s.halted);
});

test('a canary failing its checks while soaking halts the fleet', async () => {
  const names = uniq('ok', 4);
  failSoakOn = names[0]!;
  try {
    const s = await (await startFleet(fleetInput(names, { canary: 1, soakSeconds: 5 }))).result();
    assert.match(s.halted ?? '', /canary checks failed \(round 1\): .*stand-in verify/);
    assert.deepEqual(
      s.rows.slice(1).map((r) => r.state),
      ['untouched', 'untouched', 'untouched'],
    );
  } finally {
    failSoakOn = '';
  }
});

test('the promote gate rejected: only the canaries changed', async () => {
  const names = uniq('ok', 4);
  const input = fleetInput(names, { canary: 2 });
  const handle = await startFleet(input);
  await approveWhenWaiting(input.fleetId, 'promote-fleet', false);
  const s = await handle.result();
  assert.deepEqual(
    s.rows.map((r) => r.state),
    ['succeeded', 'succeeded', 'untouched', 'untouched'],
  );
  assert.match(s.halted ?? '', /rejected by test/);
});

test('a deployment another operation holds is skipped (--if-busy skip) or waited for (--if-busy wait)', async () => {
  const names = uniq('ok', 3);
  const holder = await temporal.client.workflow.start('hold', { taskQueue, workflowId: mutatingWorkflowId(names[1]!) });
  const skipped = await (await startFleet(fleetInput(names, { operation: 'backup', version: undefined }))).result();
  assert.deepEqual(
    skipped.rows.map((r) => r.state),
    ['succeeded', 'skipped-busy', 'succeeded'],
  );
  assert.match(skipped.rows[1]?.detail ?? '', /another operation holds/);

  const input = fleetInput(names, { operation: 'backup', version: undefined, ifBusy: 'wait', busyWaitSeconds: 120 });
  const waiting = await startFleet(input);
  for (let i = 0; i < 100; i++) {
    const s = await waiting.query(fleetStatusQuery);
    if (s.rows[1]?.state === 'waiting') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await waiting.query(fleetStatusQuery)).rows[1]?.state, 'waiting');
  await holder.signal('release');
  const s = await waiting.result();
  assert.deepEqual(
    s.rows.map((r) => r.state),
    ['succeeded', 'succeeded', 'succeeded'],
  );
});

test('day2 cancel on a fleet: running children end in their own states, nothing new starts, the fleet ends CANCELLED', async () => {
  const names = uniq('slow-ok', 6);
  const input = fleetInput(names, { operation: 'backup', version: undefined });
  const handle = await startFleet(input);
  for (let i = 0; i < 100; i++) {
    if ((await handle.query(fleetStatusQuery)).rows[0]?.state === 'running') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await handle.cancel();
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected a cancelled fleet, got ${String(err)}`);
  const p = await handle.query(progressQuery);
  assert.match(p.outcome ?? '', /^cancelled: nothing new was started; 3 succeeded, 3 untouched/);
  for (const d of names.slice(0, 3)) {
    const child = await temporal.client.workflow.getHandle(mutatingWorkflowId(d)).describe();
    assert.equal(child.status.name, 'COMPLETED', `${d}'s backup ran to its end`);
  }
});

test('a fleet of 200 continues as new between waves and finishes every child', { timeout: 300_000 }, async () => {
  const names = uniq('pf', 200);
  const input = fleetInput(names, { operation: 'preflight', version: undefined, maxConcurrency: { count: 25 }, historyLimit: 300 });
  const handle = await startFleet(input);
  const s = await handle.result();
  assert.equal(s.rows.filter((r) => r.state === 'succeeded').length, 200);
  assert.ok(s.runs > 1, `expected continue-as-new, took ${s.runs} run(s)`);
  assert.ok((await continuedRuns(handle.workflowId)) >= 1, 'an earlier run of the fleet ended CONTINUED_AS_NEW');
});

async function continuedRuns(workflowId: string): Promise<number> {
  let count = 0;
  for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    if (w.status.name === 'CONTINUED_AS_NEW') count++;
  }
  return count;
}
