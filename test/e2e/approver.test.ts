// The automated approver against real restores waiting at their confirmation gate: it
// approves on passing (and stable) checks, rejects on a failing one, leaves manual gates to
// a person, records its evidence in history, and never decides a gate twice, even when it
// is killed and restarted mid-evaluation.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { defaultPayloadConverter } from '@temporalio/common';
import { evaluateGate } from '../../src/approver/evaluate-gate';
import type { GatePolicy } from '../../src/domain/config-schema';
import type { GateDecision, Progress } from '../../src/domain/types';
import { spawnCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';

const NAME = 'appr';
let e2e: E2E;
let backupFile: string;

/** Every decision the workflow's history holds: `decide` updates accepted, approve/reject signals. */
async function decisions(): Promise<Array<{ via: string; identity: string; decision: GateDecision }>> {
  const history = await e2e.temporal.client.workflow.getHandle(e2e.workflowId).fetchHistory();
  const found = [];
  for (const event of history.events ?? []) {
    const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (update?.input?.name === 'decide') {
      const [decision] = update.input.args?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p)) ?? [];
      found.push({ via: 'update', identity: update.meta?.identity ?? '', decision: decision as GateDecision });
    }
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'approve' || signal?.signalName === 'reject') {
      const [decision] = signal.input?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p)) ?? [];
      found.push({ via: `signal ${signal.signalName}`, identity: signal.identity ?? '', decision: decision as GateDecision });
    }
  }
  return found;
}

/** Rewrites the deployment's gate policy in day2.yaml (each approver run reads it afresh). */
function setGatePolicy(policy: Record<string, unknown>): void {
  const file = e2e.deployment.configFile;
  const config = YAML.parse(readFileSync(file, 'utf8'));
  config.deployments[NAME].gates = { 'confirm-restore': policy };
  writeFileSync(file, YAML.stringify(config));
}

const readyCheck = () => ({ kind: 'http', name: 'service ready', url: `${e2e.deployment.baseUrl}/health/ready`, expectStatus: 200 });
const rowsCheck = { kind: 'sql', name: 'ledger has entries', query: 'select count(*) > 0 from entries', expect: 'true' };

/** Starts a restore and returns once it waits at its gate and visibility shows it there. */
async function restoreWaitingAtGate(): Promise<void> {
  const started = await e2e.cli('restore', backupFile);
  assert.equal(started.exitCode, 4, started.stdout + started.stderr);
  const query = `ExecutionStatus = 'Running' AND Day2Gate = 'confirm-restore' AND WorkflowId = '${e2e.workflowId}'`;
  for (let i = 0; i < 100; i++) {
    for await (const _ of e2e.temporal.client.workflow.list({ query })) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('visibility never showed the waiting gate');
}

async function finished(): Promise<string> {
  const done = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
  return (JSON.parse(done.stdout) as { status: string }).status;
}

/** `day2 approver` as its own process, so a test can SIGKILL it. */
const spawnApprover = (...args: string[]) => spawnCli(e2e.deployment.configFile, ['approver', ...args]);

before(async () => {
  e2e = await startE2E(NAME);
  await e2e.startService(5);
  await e2e.startWorker();
  backupFile = await e2e.backup();
});

after(async () => {
  await e2e?.teardown();
});

describe('the automated approver', () => {
  test('approves a gate whose checks pass and stay passing; the evidence is in history', async () => {
    setGatePolicy({ policy: 'auto', stableRuns: 2, stableIntervalSeconds: 1, checks: [readyCheck(), rowsCheck] });
    await restoreWaitingAtGate();
    const r = await e2e.cli('approver', '--once');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /approved .*gate 'confirm-restore': 2 check\(s\) passed 2 times in a row/);
    assert.equal(await finished(), 'COMPLETED');

    const [only, ...rest] = await decisions();
    assert.deepEqual(rest, []);
    assert.equal(only!.via, 'update');
    assert.match(only!.identity, /^day2-approver@/);
    assert.equal(only!.decision.by, only!.identity);
    assert.equal(only!.decision.approve, true);
    assert.deepEqual(
      only!.decision.evidence?.map((c) => [c.name, c.ok]),
      [
        ['service ready', true],
        ['ledger has entries', true],
        ['stability', true],
      ],
    );
  });

  test('rejects a gate whose check fails (policy auto), naming the failed check', async () => {
    setGatePolicy({ policy: 'auto', checks: [readyCheck(), { ...rowsCheck, name: 'impossible', expect: 'false' }] });
    await restoreWaitingAtGate();
    const r = await e2e.cli('approver', '--once');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /rejected .*check failed: impossible: expected "false", got "true"/);
    assert.equal(await finished(), 'COMPLETED');
    const [only, ...rest] = await decisions();
    assert.deepEqual(rest, []);
    assert.equal(only!.decision.approve, false);
    assert.deepEqual(only!.decision.evidence?.find((c) => c.name === 'impossible')?.ok, false);
  });

  test('leaves a manual gate (and failing auto-approve-only checks) to a person', async () => {
    setGatePolicy({ policy: 'manual', checks: [readyCheck()] });
    await restoreWaitingAtGate();
    const manual = await e2e.cli('approver', '--once');
    assert.match(manual.stdout, /left .*policy manual: a person decides/);

    setGatePolicy({ policy: 'auto-approve-only', checks: [{ ...rowsCheck, name: 'impossible', expect: 'false' }] });
    const failing = await e2e.cli('approver', '--once');
    assert.match(failing.stdout, /left .*check failing: impossible.*leaves it to a person/);
    assert.deepEqual(await decisions(), [], 'nothing was decided');

    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'person says no');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    assert.equal(await finished(), 'COMPLETED');
    assert.deepEqual(
      (await decisions()).map((d) => d.decision.by),
      ['test-operator'],
    );
  });

  test('a person who decides while the checks run wins; the approver notes it and does nothing', async () => {
    // The check passes only once the person has decided, however slow the machine is.
    const decided = path.join(e2e.dir, 'person-decided');
    const waitForPerson = {
      kind: 'command',
      name: 'held until the person decides',
      command: `until [ -f '${decided}' ]; do sleep 0.1; done`,
    };
    setGatePolicy({ policy: 'auto', stableRuns: 2, stableIntervalSeconds: 0, checks: [readyCheck(), waitForPerson] });
    await restoreWaitingAtGate();
    const approver = spawnApprover('--once');
    await approver.waitFor(/checking/);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'changed my mind');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    writeFileSync(decided, '');
    await approver.child;
    assert.match(approver.output(), /noop .*decided while its checks ran/);
    assert.deepEqual(
      (await decisions()).map((d) => d.decision.by),
      ['test-operator'],
    );
  });

  test('killed and restarted while a gate waits: exactly one approval', async () => {
    // The first approver is held inside its checks, so it is killed before it can decide.
    const released = path.join(e2e.dir, 'approver-released');
    const hold = { kind: 'command', name: 'held until released', command: `until [ -f '${released}' ]; do sleep 0.1; done` };
    setGatePolicy({ policy: 'auto', stableRuns: 3, stableIntervalSeconds: 1, checks: [readyCheck(), hold] });
    await restoreWaitingAtGate();
    const first = spawnApprover('--interval', '1');
    await first.waitFor(/checking/);
    first.child.kill('SIGKILL');
    await first.child;
    writeFileSync(released, '');
    // Two at once after the restart: they race for the same gate; the validator lets one win.
    const second = spawnApprover('--interval', '1');
    const third = spawnApprover('--interval', '1');
    try {
      assert.equal(await finished(), 'COMPLETED');
      for (let i = 0; i < 100 && !/approved/.test(second.output() + third.output()); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      second.child.kill('SIGTERM');
      third.child.kill('SIGTERM');
      await Promise.all([second.child, third.child]);
    }
    const all = await decisions();
    assert.equal(all.length, 1, JSON.stringify(all));
    assert.equal(all[0]!.decision.approve, true);
    const approvals = (second.output() + third.output()).match(/✓ approved/g) ?? [];
    assert.equal(approvals.length, 1, second.output() + third.output());
  });
});

describe('deciding from the Temporal Web UI', () => {
  // The Web UI's "Send a Signal" with name `approve` (or `reject`) and JSON input
  // {"gate":"confirm-restore","by":"alice","reason":"…"}: documented in docs/cli.md.
  test('an approve signal for the waiting gate approves it, recorded with who and why', async () => {
    setGatePolicy({ policy: 'manual' });
    await restoreWaitingAtGate();
    const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
    // A signal for another gate is ignored (a late or mistaken one can never approve this gate).
    await handle.signal('reject', { gate: 'commit-rotation', by: 'bob', reason: 'wrong gate' });
    await handle.signal('approve', { gate: 'confirm-restore', by: 'alice', reason: 'checked from the Web UI' });
    assert.equal(await finished(), 'COMPLETED');
    const all = await decisions();
    assert.deepEqual(
      all.map((d) => [d.via, d.decision.by]),
      [
        ['signal reject', 'bob'],
        ['signal approve', 'alice'],
      ],
    );
    const status = await e2e.cli('--json', 'status', e2e.workflowId);
    const confirm = (JSON.parse(status.stdout) as { progress: Progress }).progress.steps.find((st) => st.name === 'Confirm restore');
    assert.equal(confirm?.detail, 'approved by alice: checked from the Web UI');
  });
});

describe('evaluateGate stability', () => {
  // A command check that passes while a counter file holds less than 2, then fails.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-evaluate-'));
  const counter = path.join(dir, 'runs');
  const flapping: GatePolicy = {
    policy: 'auto',
    stableRuns: 3,
    stableIntervalSeconds: 0,
    checks: [
      {
        kind: 'command',
        name: 'settled',
        command: `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n+1)) > ${counter}; [ $n -lt 2 ]`,
        expectExitCode: 0,
      },
    ],
  };
  const stillWaiting = async () => true;

  test('a check that passes twice then fails is rejected on the third run', async () => {
    writeFileSync(counter, '0');
    const verdict = await evaluateGate(flapping, {}, { stillWaiting });
    assert.equal(verdict.action, 'reject');
    assert.match(verdict.reason, /run 3 of 3/);
  });

  test('under auto-approve-only the same failure is left to a person', async () => {
    writeFileSync(counter, '0');
    const verdict = await evaluateGate({ ...flapping, policy: 'auto-approve-only' }, {}, { stillWaiting });
    assert.equal(verdict.action, 'leave');
  });

  test('no checks configured never approves', async () => {
    const verdict = await evaluateGate({ ...flapping, checks: [] }, {}, { stillWaiting });
    assert.equal(verdict.action, 'leave');
  });

  test('a gate that stops waiting between runs ends the evaluation', async () => {
    writeFileSync(counter, '-10');
    const verdict = await evaluateGate(flapping, {}, { stillWaiting: async () => false });
    assert.equal(verdict.action, 'gone');
  });
});
