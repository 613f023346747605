// `day2 cancel` must leave a known state. The restore workflow runs on a real Temporal
// server with stand-in activities that block until told, so a cancellation lands exactly
// where the test wants it: during the staging restore (the staging database is dropped,
// nothing else is touched) and while the services are stopped (they are swapped and started
// again before the cancellation takes effect), and a swap that fails (the live database is
// untouched: the staging copy is dropped and the services start again on it), and a rollback
// whose restore child fails that way (it puts the previous release back).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { deepestMessage, failureType, hasFailureType } from '../../src/domain/failure-chain';
import { progressQuery } from '../../src/domain/messages';
import type { RollbackInput } from '../../src/domain/release-types';
import type { Progress, RestoreInput } from '../../src/domain/types';
import { workflowSource } from '../../src/worker';
import { startTemporal, type TestTemporal } from '../harness/temporal';

let temporal: TestTemporal;
const taskQueue = `day2-test-cancel-${process.pid}`;
const calls: string[] = [];
/** The activity named here blocks (heartbeating) until cancelled, or for `blockMs`. */
let blockIn = '';
let blockMs = 0;
/** The activity named here fails, for good (a non-retryable failure). */
let failIn = '';

async function block(name: string): Promise<void> {
  if (blockIn !== name) return;
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 200);
  try {
    if (blockMs) await Promise.race([ctx.sleep(blockMs), ctx.cancelled]);
    else await ctx.cancelled;
  } finally {
    clearInterval(timer);
  }
}

function record(name: string, result: unknown = undefined) {
  return async (input: unknown) => {
    calls.push(`${name} ${JSON.stringify(input)}`);
    if (failIn === name) throw ApplicationFailure.nonRetryable(`${name} failed (stand-in)`, 'StandInFailure');
    await block(name);
    return result;
  };
}

const activities = {
  verifyBackup: record('verifyBackup', { file: 'x.dump', database: 'live', tocEntries: 3, createdAt: '2026-01-01T00:00:00Z' }),
  stageRestore: record('stageRestore'),
  dropDatabaseIfExists: record('dropDatabaseIfExists', { dropped: true }),
  stopServices: record('stopServices'),
  swapInRestoredDatabase: record('swapInRestoredDatabase'),
  startServices: record('startServices'),
  waitForReady: record('waitForReady', { readyAfterMs: 10 }),
  runDeploymentChecks: record('runDeploymentChecks', []),
  // A rollback's own steps around its restore child.
  detectRunningVersion: record('detectRunningVersion', '1.1.0'),
  pullRelease: record('pullRelease', { usedPresent: false }),
  writeReleaseVersion: record('writeReleaseVersion'),
  readServiceVersion: record('readServiceVersion', '1.0.0'),
};

let worker: Worker;
let running: Promise<void>;

before(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  temporal = await startTemporal();
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue,
    ...workflowSource(process.env.DAY2_WORKFLOW_BUNDLE),
    activities,
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await temporal?.stop();
});

async function waitUntil(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), `never saw: ${what}; calls: ${calls.join(' | ')}`);
}

async function cancelRestoreDuring(activity: string, ms = 0): Promise<{ progress: Progress; names: string[] }> {
  calls.length = 0;
  failIn = '';
  blockIn = activity;
  blockMs = ms;
  const input: RestoreInput = { deployment: 'cancel', file: 'x.dump', yes: true };
  const handle = await temporal.client.workflow.start('restore', {
    taskQueue,
    workflowId: `day2-cancel-${activity}-${Date.now()}`,
    args: [input],
  });
  await waitUntil(`${activity} called`, () => calls.some((c) => c.startsWith(activity)));
  await handle.cancel();
  await assert.rejects(handle.result(), (err) => err instanceof WorkflowFailedError && /cancel/i.test(String(err.cause)));
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  return { progress: await handle.query(progressQuery), names: calls.map((c) => c.split(' ')[0]!) };
}

describe('cancelling a restore', () => {
  test('during the staging restore: the staging database is dropped, services are never touched', async () => {
    const { progress, names } = await cancelRestoreDuring('stageRestore');
    assert.deepEqual(names, ['verifyBackup', 'stageRestore', 'dropDatabaseIfExists']);
    assert.match(calls[2]!, /"name":"live_restore_\d{14}"/);
    assert.equal(progress.outcome, "cancelled during 'Restore into staging database': nothing was changed");
    assert.equal(progress.steps.find((s) => s.name === 'Restore into staging database')?.detail, 'cancelled');
  });

  test('while services are stopped: swap and start finish first, then it stops, saying the backup is live', async () => {
    const { progress, names } = await cancelRestoreDuring('stopServices', 1500);
    assert.deepEqual(names, ['verifyBackup', 'stageRestore', 'stopServices', 'swapInRestoredDatabase', 'startServices']);
    assert.match(
      progress.outcome ?? '',
      /^cancelled during 'Wait for readiness': the backup is live \(previous data kept as live_pre_restore_\d{14}\) but was not verified$/,
    );
  });
});

describe('a restore whose swap fails', () => {
  test('drops the staging database and starts the services again on the untouched live database', async () => {
    calls.length = 0;
    blockIn = '';
    failIn = 'swapInRestoredDatabase';
    const input: RestoreInput = { deployment: 'swapfail', file: 'x.dump', yes: true };
    const handle = await temporal.client.workflow.start('restore', { taskQueue, workflowId: `day2-swapfail-${Date.now()}`, args: [input] });
    await assert.rejects(
      handle.result(),
      (err) =>
        err instanceof WorkflowFailedError &&
        failureType(err) === 'StandInFailure' &&
        hasFailureType(err, 'RestoreFailedBeforeSwap') &&
        /swapInRestoredDatabase failed \(stand-in\)/.test(deepestMessage(err)),
    );
    const names = calls.map((c) => c.split(' ')[0]!);
    assert.deepEqual(names, [
      'verifyBackup',
      'stageRestore',
      'stopServices',
      'swapInRestoredDatabase',
      'dropDatabaseIfExists',
      'startServices',
    ]);
    assert.match(calls[4]!, /"name":"live_restore_\d{14}"/, 'the staging copy is what gets dropped');
    const progress = await handle.query(progressQuery);
    assert.equal(progress.steps.find((s) => s.name === 'Swap in restored database')?.status, 'failed');
    failIn = '';
  });
});

describe('a rollback whose restore leaves the live database untouched', () => {
  // The restore child says so by its failure type (RestoreFailedBeforeSwap): the rollback
  // writes the previous release back and starts it, so the newer schema never runs the older release.
  for (const failing of ['stageRestore', 'swapInRestoredDatabase']) {
    test(`(${failing} fails): the previous release is written back and started`, async () => {
      calls.length = 0;
      blockIn = '';
      failIn = failing;
      const input: RollbackInput = { deployment: 'undo', backup: 'x.dump', version: '1.0.0', yes: true };
      const handle = await temporal.client.workflow.start('rollback', {
        taskQueue,
        workflowId: `day2-undo-${failing}-${Date.now()}`,
        args: [input],
      });
      await assert.rejects(handle.result(), (err) => err instanceof WorkflowFailedError && hasFailureType(err, 'RestoreFailedBeforeSwap'));
      const writes = calls.filter((c) => c.startsWith('writeReleaseVersion'));
      assert.deepEqual(
        writes.map((c) => JSON.parse(c.slice(c.indexOf(' ') + 1)).version),
        ['1.0.0', '1.1.0'],
      );
      assert.equal(calls.at(-1)?.split(' ')[0], 'startServices');
      const progress = await handle.query(progressQuery);
      assert.match(
        progress.steps.find((st) => st.name === 'Write release version')?.detail ?? '',
        /^undone: the restore failed before replacing the database; back to 1\.1\.0$/,
      );
      failIn = '';
    });
  }
});
