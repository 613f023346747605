// Scheduled backups end to end: `day2 schedule backup` makes a Temporal Schedule; a run of
// it backs up under the deployment's single mutating id; a run while another operation
// holds the deployment (a restore waiting at its gate) is skipped and says why, touching
// nothing. The test triggers runs through the Schedule API instead of waiting for the clock.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ScheduledBackupResult } from '../src/domain/types';
import { backupScheduleId } from '../src/client/commands/schedules';
import { startE2E, type E2E } from './harness/e2e';

let e2e: E2E;
const NAME = 'sched';
const dumps = () => (existsSync(e2e.deployment.backupDir) ? readdirSync(e2e.deployment.backupDir) : []).filter((f) => f.endsWith('.dump')).sort();
const schedule = () => e2e.temporal.client.schedule.getHandle(backupScheduleId(NAME));

/** Triggers the schedule and returns the result of the run it starts. */
async function triggerRun(): Promise<ScheduledBackupResult> {
  const runsBefore = (await schedule().describe()).info.recentActions.length;
  await schedule().trigger();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { recentActions } = (await schedule().describe()).info;
    if (recentActions.length > runsBefore) {
      const { workflowId, firstExecutionRunId } = recentActions.at(-1)!.action.workflow;
      return e2e.temporal.client.workflow.getHandle(workflowId, firstExecutionRunId).result();
    }
    if (Date.now() > deadline) throw new Error('the triggered schedule never started a run');
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  e2e = await startE2E(NAME);
  await e2e.startService(5);
  await e2e.startWorker();
});

after(async () => {
  await schedule().delete().catch(() => {});
  await e2e?.teardown();
});

describe('scheduled backups', () => {
  test('day2 schedule backup creates a schedule; a bad interval is bad input', async () => {
    const bad = await e2e.cli('schedule', 'backup', '--every', '5x');
    assert.equal(bad.exitCode, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /'5x' is not an interval: use minutes, hours or days, e.g. 30m, 6h, 1d/);

    const made = await e2e.cli('schedule', 'backup', '--every', '12h');
    assert.equal(made.exitCode, 0, made.stdout + made.stderr);
    assert.match(made.stdout, /created schedule day2-sched-backup-schedule: a backup of sched every 12h/);
    const again = await e2e.cli('schedule', 'backup', '--every', '6h');
    assert.equal(again.exitCode, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /updated schedule day2-sched-backup-schedule: a backup of sched every 6h/);
    assert.equal(Number((await schedule().describe()).spec.intervals?.[0]?.every), 6 * 3600 * 1000);

    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /day2-sched-backup-schedule {2}every 6h {2}next \d{4}-/);
    assert.match(listed.stdout, /^ {2}last run: none yet$/m);
  });

  test('a run backs up under the deployment id', async () => {
    const before = dumps();
    const result = await triggerRun();
    assert.equal(result.outcome, 'backed-up');
    assert.ok(result.outcome === 'backed-up' && !before.includes(result.file) && dumps().includes(result.file), `a new backup: ${JSON.stringify(result)}`);
    const { type } = await e2e.temporal.client.workflow.getHandle(e2e.workflowId).describe();
    assert.equal(type, 'backup', 'the backup ran as day2-sched, the id every mutating operation shares');
    const file = result.outcome === 'backed-up' ? result.file : '(none)';
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /\n {2}last run: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ backed up /);
    assert.ok(listed.stdout.split('\n').some((line) => line.endsWith(` backed up ${file}`)), listed.stdout);
  });

  test('a run while a restore holds the deployment is skipped, says why, and changes nothing', async () => {
    const started = await e2e.cli('restore', dumps().at(-1)!);
    assert.equal(started.exitCode, 4, 'the restore waits at its gate, holding the deployment');
    const before = dumps();
    const result = await triggerRun();
    assert.deepEqual(result, {
      outcome: 'skipped',
      reason: 'another operation holds sched (workflow day2-sched: see day2 status sched); the next scheduled run tries again',
    });
    assert.deepEqual(dumps(), before);
    const { status } = await e2e.temporal.client.workflow.getHandle(e2e.workflowId).describe();
    assert.equal(status.name, 'RUNNING', 'the restore still waits, untouched');
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /last run: \S+Z skipped: another operation holds sched \(workflow day2-sched: see day2 status sched\)/);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'test over');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
  });

  test('day2 schedule remove deletes it; removing it again is bad input', async () => {
    const removed = await e2e.cli('schedule', 'remove');
    assert.equal(removed.exitCode, 0, removed.stdout + removed.stderr);
    const again = await e2e.cli('schedule', 'remove');
    assert.equal(again.exitCode, 2, again.stdout + again.stderr);
    assert.match(again.stderr, /sched has no backup schedule \(day2-sched-backup-schedule\)/);
  });
});
