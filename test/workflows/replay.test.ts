// Replay safety: every history in test/histories/ (recorded from real e2e runs, see
// docs/testing.md) is replayed against the current workflow code with
// Worker.runReplayHistories. A change that would make a running operation's worker fail
// with a nondeterminism error on its next task (a reordered activity, a removed timer, a
// new step not behind patched()) fails here instead of in production. Every workflow type
// the worker registers must have at least one recorded history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { historyFromRecord, readRecordedHistories, WORKFLOW_TYPES } from '../harness/histories';
import { workflowSource } from '../../src/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
const recorded = readRecordedHistories();

test('every workflow type has a recorded history', () => {
  const covered = new Set(recorded.map((h) => h.workflowType));
  assert.deepEqual(
    WORKFLOW_TYPES.filter((t) => !covered.has(t)),
    [],
    'record one: npm run test:record-histories (docs/testing.md)',
  );
  for (const h of recorded) assert.ok(WORKFLOW_TYPES.includes(h.workflowType), `${h.file}: ${h.workflowType} is no longer registered`);
});

const source = workflowSource(process.env.DAY2_WORKFLOW_BUNDLE);

async function replay(histories: Array<{ workflowId: string; history: unknown }>): Promise<string[]> {
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(source, histories)) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId} (${result.runId}): ${result.error.name}: ${result.error.message}`);
  }
  assert.equal(replayed, histories.length);
  return failures;
}

test(`${recorded.length} recorded histories replay on the current workflow code`, async () => {
  // The recorded workflow id: the code derives its children's ids from it.
  const failures = await replay(recorded.map((h) => ({ workflowId: h.workflowId, history: historyFromRecord(h.history) })));
  assert.deepEqual(failures, []);
});

test('a history the code would not make fails the replay (the check can fail)', async () => {
  // A recorded history whose first scheduled activity is renamed: the code schedules
  // another activity there, which is exactly what a reordered step would look like.
  const h = recorded.find((r) => JSON.stringify(r.history).includes('activityTaskScheduledEventAttributes'));
  assert.ok(h, 'a recorded history with an activity');
  const history = historyFromRecord(h.history);
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
  scheduled.activityType = { name: 'notAnActivityDay2Has' };
  const failures = await replay([{ workflowId: h.workflowId, history }]);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /DeterminismViolation|[Nn]ondetermin/);
});
