// The crash matrix's pause hook exists only when DAY2_TEST_PAUSE is set, and says exactly
// where it pauses.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Context } from '@temporalio/activity';
import { activityInterceptors } from '../../src/activities/interceptors';
import { parseTestPause, testPauseHook } from '../../src/activities/interceptors/test-pause';
import { createLogger } from '../../src/logger';

const logger = createLogger('test', 'silent');

test('no DAY2_TEST_PAUSE, no hook: production workers have no pause point', () => {
  assert.equal(testPauseHook(undefined, 1, logger), undefined);
  assert.equal(testPauseHook('', 1, logger), undefined);
});

test('pause specs: <activity>@start|end [seconds], comma- or line-separated', () => {
  assert.deepEqual(parseTestPause('createBackup@end, stageRestore 3'), [
    { activity: 'createBackup', at: 'end', seconds: undefined },
    { activity: 'stageRestore', at: 'start', seconds: 3 },
  ]);
  assert.throws(() => parseTestPause('createBackup@middle'), /not <activity>@start/);
  assert.throws(() => parseTestPause('createBackup@end soon'), /not <activity>@start/);
});

test('a control-file pause holds until its line is removed', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'day2-pause-')), 'control');
  writeFileSync(file, 'createBackup@end 30\n');
  const hook = testPauseHook(`@${file}`, 30, logger)!;
  await hook('createBackup', 'start'); // not listed: returns at once
  const started = Date.now();
  const paused = hook('createBackup', 'end');
  setTimeout(() => writeFileSync(file, ''), 300);
  await paused;
  const held = Date.now() - started;
  assert.ok(held >= 250 && held < 5000, `held ${held} ms`);
});

test('the worker registers the pause interceptor only with a hook; it pauses around the work, by activity name', async () => {
  assert.equal(activityInterceptors(undefined).length, 1, 'heartbeats only');
  const seen: string[] = [];
  const [, pause] = activityInterceptors(async (activity, at) => void seen.push(`${activity}@${at}`));
  const { inbound } = pause!({ info: { activityType: 'createBackup' } } as Context);
  const result = await inbound!.execute!({ args: [], headers: {} }, async () => (seen.push('work'), 42));
  assert.equal(result, 42);
  assert.deepEqual(seen, ['createBackup@start', 'work', 'createBackup@end']);
});
