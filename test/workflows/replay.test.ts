// Replay safety: every history in test/histories/ (recorded from real e2e runs, see
// docs/testing.md) is replayed against the current workflow code with
// Worker.runReplayHistories. A change that would make a running operation's worker fail
// with a nondeterminism error on its next task (a reordered activity, a removed timer, a
// new step not behind patched()) fails here instead of in production. Every workflow type
// the worker registers must have at least one recorded history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/worker';
import { historyFromRecord, readRecordedHistories, WORKFLOW_TYPES } from '../harness/histories';

Runtime.install({ logger: new DefaultLogger('WARN') });
const recorded = readRecordedHistories();

test('every workflow type has a recorded history', () => {
  const covered = new Set(recorded.map((h) => h.workflowType));
  assert.deepEqual(WORKFLOW_TYPES.filter((t) => !covered.has(t)), [], 'record one: npm run test:record-histories (docs/testing.md)');
  for (const h of recorded) assert.ok(WORKFLOW_TYPES.includes(h.workflowType), `${h.file}: ${h.workflowType} is no longer registered`);
});

test(`${recorded.length} recorded histories replay on the current workflow code`, async () => {
  const bundle = process.env.DAY2_WORKFLOW_BUNDLE;
  const histories = recorded.map((h) => ({ workflowId: h.file, history: historyFromRecord(h.history) }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH },
    histories,
  )) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  assert.equal(replayed, recorded.length);
  assert.deepEqual(failures, []);
});
