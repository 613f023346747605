// `day2 cancel` during an upgrade or a rollback, end to end (real Temporal, PostgreSQL and
// ledger service; the worker's test pause holds an activity so the cancellation lands
// exactly there). Each must end CANCELLED in a state its outcome names:
// - an upgrade cancelled before it stops anything: nothing changed;
// - an upgrade cancelled mid-migration: the migration finishes (never cut off), then the
//   upgrade is undone from its pre-upgrade backup;
// - a rollback cancelled mid-restore: finished first (stopping there would leave the old
//   release on the newer schema), and said so.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { progressQuery } from '../../src/domain/messages';
import { startE2E, type E2E } from '../harness/e2e';
import { fileVersions, migrationLog, serviceState, waitForStep } from '../harness/upgrade-helpers';

let e2e: E2E;
let control: string;

const dumps = () =>
  (existsSync(e2e.deployment.backupDir) ? readdirSync(e2e.deployment.backupDir) : []).filter((f) => f.endsWith('.dump')).sort();
const everything = () => tableChecksums(e2e.deployment.databaseUrl);
const handle = () => e2e.temporal.client.workflow.getHandle(e2e.workflowId);

/** Until `activity` has paused in the worker (its work done, for `@end`). */
async function waitForPause(activity: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  const paused = (line: string) => line.includes('"msg":"test pause"') && line.includes(`"activity":"${activity}"`);
  while (!readFileSync(e2e.worker!.logFile, 'utf8').split('\n').some(paused)) {
    if (Date.now() > deadline) throw new Error(`${activity} never paused; see ${e2e.worker!.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Until the workflow has *processed* the cancellation (a workflow task completed after the
 * request): only then is the paused activity's completion sure to come after it. Waiting
 * for the request alone let a loaded worker see both in one task and move a step on. */
async function waitForCancelProcessed(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = (await handle().fetchHistory()).events ?? [];
    const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
    if (requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes)) return;
    if (Date.now() > deadline) throw new Error('day2 cancel never reached the workflow');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `args` detached, pauses it in `activity`, cancels it there, releases the pause,
 * and returns what `day2 cancel` said and the workflow's end. */
async function cancelDuring(activity: string, step: string, ...args: string[]) {
  writeFileSync(control, `${activity}@end 120\n`);
  const started = await e2e.cli(...args, '--detach');
  assert.equal(started.exitCode, 0, started.stdout + started.stderr);
  await waitForStep(e2e, step, 'running');
  await waitForPause(activity);
  const cancelling = e2e.cli('cancel', e2e.deployment.name);
  // The cancellation reaches the workflow while the activity still holds; then release it.
  await waitForCancelProcessed();
  writeFileSync(control, '');
  const cancelled = await cancelling;
  assert.equal(cancelled.exitCode, 0, cancelled.stdout + cancelled.stderr);
  const { status } = await handle().describe();
  return { cancelled, status: status.name, progress: await handle().query(progressQuery) };
}

before(async () => {
  e2e = await startE2E('cxl');
  control = path.join(e2e.dir, 'pause-control');
  writeFileSync(control, '');
  await e2e.startService(10);
  await e2e.startWorker({ DAY2_TEST_PAUSE: `@${control}` });
});

after(async () => {
  await e2e?.teardown();
});

describe('cancelling an upgrade or a rollback', () => {
  test('an upgrade cancelled while it pulls the release: nothing on the service changed', async () => {
    const before = await everything();
    const { cancelled, status, progress } = await cancelDuring('pullRelease', 'Pull release', 'upgrade', '1.1.0');
    assert.equal(status, 'CANCELLED');
    assert.equal(progress.outcome, "cancelled during 'Pull release': nothing on the service was changed");
    assert.match(cancelled.stdout, /CANCELLED: cancelled during 'Pull release': nothing on the service was changed/);
    assert.deepEqual(await everything(), before);
    assert.deepEqual(dumps(), [], 'no pre-upgrade backup was taken');
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
  });

  test('an upgrade cancelled mid-migration: the migration finishes, then the upgrade is undone from its backup', async () => {
    const before = await everything();
    const { status, progress } = await cancelDuring('runMigrations', 'Run migrations', 'upgrade', '1.1.0');
    assert.equal(status, 'CANCELLED');
    assert.match(
      progress.outcome ?? '',
      /^cancelled: the upgrade was undone \(cancelled after 'Run migrations'\): back on 1\.0\.0, data from cxl-[\d-]+\.dump; the upgraded database is kept as cxl_pre_restore_\d{14}$/,
    );
    const byName = Object.fromEntries(progress.steps.map((s) => [s.name, s.status]));
    assert.equal(byName['Run migrations'], 'done', 'the migration was not cut off');
    assert.equal(byName['Write release version'], 'skipped');
    assert.equal(byName['Roll back'], 'done');
    assert.deepEqual(await everything(), before, 'every table as before the upgrade');
    assert.deepEqual(
      (await migrationLog(e2e.deployment.databaseUrl)).map((m) => m.target),
      ['1.0.0'],
    );
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
  });

  test('a rollback cancelled mid-restore is finished first, and says so', async () => {
    const up = await e2e.cli('upgrade', '1.1.0');
    assert.equal(up.exitCode, 0, up.stdout + up.stderr);
    const { status, progress } = await cancelDuring('stageRestore', 'Restore backup and restart', 'rollback', '--yes');
    assert.equal(status, 'CANCELLED');
    assert.match(
      progress.outcome ?? '',
      /^cancelled: the rollback had begun changing cxl, so it was finished first: rolled back to 1\.0\.0 from cxl-[\d-]+\.dump/,
    );
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(
      (await migrationLog(e2e.deployment.databaseUrl)).map((m) => m.target),
      ['1.0.0'],
    );
  });
});
