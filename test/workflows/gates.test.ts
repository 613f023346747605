// Every gate (src/domain/gate-names.ts) on the real workflow code with stand-in
// activities: it opens with its real default timeout and default outcome (read from the
// progress query while it waits), and when nobody decides it ends with that default, by
// 'timeout', and the workflow carries on from there.
//
// Time: the gates' real timeouts are days (7 days for a rotation's gates, 24 h for a
// restore's). @temporalio/testing's time-skipping server (TestWorkflowEnvironment
// .createTimeSkipping) is a separate Java/GraalVM binary downloaded from GitHub releases
// on first use; this network cannot download it and no package list here holds it. So
// these tests run on the Temporal CLI dev server (no time skipping): the default
// durations are checked where the workflow states them (the open gate's timeoutAt −
// since), and the timing out itself with the workflow's own `gateTimeoutSeconds` input set
// to 1 s — the same code path (condition(…, timeoutSeconds * 1000)) with a shorter number.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { GATE_NAMES } from '../../src/domain/gate-names';
import type { Progress } from '../../src/domain/types';
import {
  decide,
  deepest,
  failedCheck,
  progressOf,
  StandIns,
  startWorkflowWorker,
  waitingAt,
  type WorkflowWorker,
  RESTORE_CALLS,
} from '../harness/stand-ins';

let wf: WorkflowWorker;
before(async () => {
  wf = await startWorkflowWorker('gates');
});
after(() => wf?.stop());

const DAY = 24 * 3600;

interface GateCase {
  gate: string;
  workflowType: string;
  /** The workflow's input; `timeout` set: the gate times out after that many seconds. */
  input: (timeout?: number) => unknown;
  standIns?: (s: StandIns) => void;
  /** Decide the gates before this one (e.g. approve the first of a rotation's two). */
  before?: (handle: WorkflowHandle) => Promise<void>;
  defaultSeconds: number;
  defaultOutcome: 'approve' | 'reject';
  /** The workflow after the timeout's default: its result, its calls. */
  afterDefault: (r: { result: unknown; calls: string[]; progress: Progress }) => void;
}

const CASES: GateCase[] = [
  {
    gate: 'confirm-restore',
    workflowType: 'restore',
    input: (t) => ({ deployment: 'wf', file: 'wf-2026-01-01-000000.dump', gateTimeoutSeconds: t }),
    defaultSeconds: DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls, progress }) => {
      assert.equal((result as { outcome: string }).outcome, 'rejected');
      assert.deepEqual(calls, ['verifyBackup', 'detectRunningVersion']);
      assert.equal(progress.outcome, 'rejected by timeout: nothing was changed');
    },
  },
  {
    gate: 'confirm-rollback',
    workflowType: 'rollback',
    input: (t) => ({ deployment: 'wf', backup: 'wf-2026-01-01-000000.dump', version: '0.9.0', gateTimeoutSeconds: t }),
    defaultSeconds: DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls, progress }) => {
      assert.equal((result as { outcome: string }).outcome, 'rejected');
      assert.deepEqual(calls, ['verifyBackup', 'detectRunningVersion']);
      assert.equal(progress.outcome, 'rejected by timeout: nothing was changed');
    },
  },
  {
    gate: 'rollback-failed-upgrade',
    workflowType: 'upgrade',
    input: (t) => ({ deployment: 'wf', version: '1.1.0', gateTimeoutSeconds: t }),
    standIns: (s) => s.fail('runMigrations', 'migration 42 failed'),
    defaultSeconds: 30 * 60,
    defaultOutcome: 'approve',
    afterDefault: ({ result, calls }) => {
      const r = result as { outcome: string; reason: string; rollback: { version: string } };
      assert.equal(r.outcome, 'rolled-back');
      assert.match(r.reason, /^Run migrations failed: migration 42 failed/);
      assert.equal(r.rollback.version, '1.0.0');
      // The rollback child: pull the old release, write its version, the restore child.
      assert.deepEqual(calls.slice(calls.indexOf('runMigrations') + 1), [
        'verifyBackup',
        'detectRunningVersion',
        'pullRelease',
        'writeReleaseVersion',
        ...RESTORE_CALLS,
        'readServiceVersion',
      ]);
    },
  },
  {
    gate: 'proceed-despite-preflight',
    workflowType: 'upgrade',
    input: (t) => ({ deployment: 'wf', version: '1.1.0', askOnFailedPreflight: true, gateTimeoutSeconds: t }),
    standIns: (s) => s.answer('runDeploymentChecks', [failedCheck('disk', 'only 1% free')]),
    defaultSeconds: 30 * 60,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls, progress }) => {
      assert.equal((result as { outcome: string }).outcome, 'rejected');
      assert.deepEqual(calls, ['detectRunningVersion', 'readUpgradePolicy', 'runDeploymentChecks']);
      assert.equal(progress.outcome, 'rejected by timeout: nothing was changed');
    },
  },
  {
    gate: 'verify-dual-secret',
    workflowType: 'rotateApiKeySecret',
    input: (t) => ({ deployment: 'wf', gateTimeoutSeconds: t ? { 'verify-dual-secret': t } : undefined }),
    defaultSeconds: 7 * DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls }) => {
      const r = result as { outcome: string; state: string };
      assert.deepEqual([r.outcome, r.state], ['rejected', 'rolled-back']);
      // Rolled back: previous secret current again, restart, keys re-hashed back, new secret removed.
      assert.deepEqual(calls.slice(calls.indexOf('runDeploymentChecks') + 1), [
        'restorePreviousApiKeySecret',
        'stopServices',
        'startServices',
        'waitForReady',
        'runDeploymentChecks',
        'rehashApiKeys',
        'removePreviousApiKeySecret',
        'stopServices',
        'startServices',
        'waitForReady',
        'runDeploymentChecks',
      ]);
    },
  },
  {
    gate: 'commit-rotation',
    workflowType: 'rotateApiKeySecret',
    input: (t) => ({ deployment: 'wf', gateTimeoutSeconds: t ? { 'commit-rotation': t } : undefined }),
    before: async (handle) => {
      await waitingAt(handle, 'verify-dual-secret');
      await decide(handle, 'verify-dual-secret', true);
    },
    defaultSeconds: 7 * DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls }) => {
      const r = result as { outcome: string; state: string };
      assert.deepEqual([r.outcome, r.state], ['rejected', 'dual-secret']);
      assert.equal(calls.at(-1), 'runDeploymentChecks', 'nothing after the restart that followed the re-hash');
      assert.ok(!calls.includes('removePreviousApiKeySecret') && !calls.includes('restorePreviousApiKeySecret'), calls.join(' '));
    },
  },
  {
    gate: 'restart-for-archiving',
    workflowType: 'pgbackrestBackup',
    input: (t) => ({ deployment: 'wf', gateTimeoutSeconds: t }),
    defaultSeconds: DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls }) => {
      assert.equal((result as { outcome: string }).outcome, 'rejected');
      assert.deepEqual(calls, ['prepareArchiving']);
    },
  },
  {
    gate: 'promote-fleet',
    workflowType: 'fleet',
    input: (t) => ({
      fleetId: 'day2-fleet-gates',
      operation: 'preflight',
      members: [
        { name: 'wf', host: 'local' },
        { name: 'wf-2', host: 'local' },
      ],
      canary: 1,
      soakSeconds: 0,
      // The CLI's default (day2 fleet … --promote-timeout).
      promoteTimeoutSeconds: t ?? DAY,
      maxConcurrency: { count: 1 },
      maxErrors: { count: 0 },
      ifBusy: 'skip',
      busyWaitSeconds: 0,
    }),
    defaultSeconds: DAY,
    defaultOutcome: 'reject',
    afterDefault: ({ result, calls }) => {
      const r = result as { outcome: string; rows: Array<{ state: string }> };
      assert.equal(r.outcome, 'halted');
      assert.deepEqual(
        r.rows.map((row) => row.state),
        ['succeeded', 'untouched'],
        'only the canary ran',
      );
      assert.equal(calls.at(-1), 'runDeploymentChecks', "the canary's verify checks ran before the gate");
    },
  },
];

test('every gate day2 has is covered here', () => {
  assert.deepEqual(CASES.map((c) => c.gate).sort(), [...GATE_NAMES].sort());
});

for (const c of CASES) {
  describe(`gate ${c.gate} (${c.workflowType})`, () => {
    test(`opens with its default: ${c.defaultOutcome} after ${c.defaultSeconds} s`, async () => {
      const s = wf.use(new StandIns());
      c.standIns?.(s);
      const handle = await wf.start(c.workflowType, c.input());
      await c.before?.(handle);
      const { gate } = await waitingAt(handle, c.gate);
      assert.equal(gate!.defaultOutcome, c.defaultOutcome);
      assert.equal((Date.parse(gate!.timeoutAt) - Date.parse(gate!.since)) / 1000, c.defaultSeconds);
      assert.match(gate!.approveCommand, new RegExp(`day2 approve .*${c.gate}`));
      await handle.terminate('test done');
    });

    test(`undecided, it times out to ${c.defaultOutcome} and the workflow goes on from there`, async () => {
      const s = wf.use(new StandIns());
      c.standIns?.(s);
      const handle = await wf.start(c.workflowType, c.input(1));
      await c.before?.(handle);
      const result = await handle.result();
      const progress = await progressOf(handle);
      assert.equal(progress.gate, undefined, 'the gate is closed');
      const decided = progress.steps.find((st) => /by timeout: no decision within 1 s/.test(st.detail ?? ''));
      assert.ok(decided, `a step says the timeout decided: ${JSON.stringify(progress.steps)}`);
      assert.equal(decided.status, c.defaultOutcome === 'approve' ? 'done' : 'failed');
      c.afterDefault({ result, calls: s.names(), progress });
    });
  });
}

test('a decision for a gate the workflow is not waiting at is refused; the right one decides', async () => {
  wf.use(new StandIns());
  const handle = await wf.start('restore', { deployment: 'wf', file: 'wf-2026-01-01-000000.dump' });
  await waitingAt(handle, 'confirm-restore');
  await assert.rejects(decide(handle, 'confirm-rollback', true), (err) =>
    /not waiting at gate 'confirm-rollback': waiting at 'confirm-restore'/.test(deepest(err)),
  );
  await decide(handle, 'confirm-restore', false);
  assert.equal(((await handle.result()) as { outcome: string }).outcome, 'rejected');
});
