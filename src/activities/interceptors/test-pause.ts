// TESTS ONLY: the crash matrix's way to stop the worker at a precise point. With
// DAY2_TEST_PAUSE=createBackup@end the worker sleeps (still heartbeating) right after
// createBackup's work is done and before its result is reported, logging 'test pause', so
// the test can SIGKILL it there; `@start` sleeps before the work begins. The value may
// also be `@<file>`: the file holds such lines (`<activity>@<start|end> [seconds]`) and is
// re-read at every activity, so one worker can serve many test cases (and removing a line
// releases a pause in progress). Only an activity's
// first attempt pauses (the retry must run through). Without DAY2_TEST_PAUSE this is not
// installed at all: production workers have no pause point.
import { readFileSync } from 'node:fs';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { currentActivity } from '../shared/activity-context';
import type { Logger } from '../../logger';

/** `mid`: a point inside an activity that offers one (copyOffsite, once a part is sent). */
export type PausePoint = 'start' | 'mid' | 'end';
export type PauseHook = (activity: string, at: PausePoint) => Promise<void>;

interface Pause {
  activity: string;
  at: PausePoint;
  seconds?: number;
}

export function parseTestPause(spec: string | undefined): Pause[] {
  if (!spec?.trim()) return [];
  return spec
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [point = '', seconds] = item.split(/\s+/);
      const [activity, at = 'start'] = point.split('@');
      if (!activity || (at !== 'start' && at !== 'mid' && at !== 'end') || (seconds !== undefined && !(Number(seconds) >= 0))) {
        throw new Error(`DAY2_TEST_PAUSE: '${item}' is not <activity>@start or <activity>@end [seconds]`);
      }
      return { activity, at, seconds: seconds === undefined ? undefined : Number(seconds) };
    });
}

export function testPauseHook(spec: string | undefined, defaultSeconds: number, logger: Logger): PauseHook | undefined {
  if (!spec) return undefined;
  const file = spec.startsWith('@') ? spec.slice(1) : undefined;
  const fixed = file ? [] : parseTestPause(spec);
  const current = (): Pause[] => {
    if (!file) return fixed;
    try {
      return parseTestPause(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  };
  logger.warn({ testPause: spec }, 'test pause hook enabled (DAY2_TEST_PAUSE): for tests only');
  return async (activity, at) => {
    const pause = current().find((p) => p.activity === activity && p.at === at);
    if (!pause || firstAttempt() === false) return;
    const seconds = pause.seconds ?? defaultSeconds;
    logger.warn({ activity, at, seconds }, 'test pause');
    // With a control file, removing the line releases the pause early.
    const until = Date.now() + seconds * 1000;
    const held = () => current().some((p) => p.activity === activity && p.at === at);
    while (Date.now() < until && (!file || held())) await new Promise((resolve) => setTimeout(resolve, file ? 100 : until - Date.now()));
    logger.warn({ activity, at }, 'test pause over');
  };
}

function firstAttempt(): boolean | undefined {
  const attempt = currentActivity()?.info.attempt;
  return attempt === undefined ? undefined : attempt === 1;
}

/** Pauses each activity where the hook says, before its work and before its result. */
export function pauseInterceptor(pause: PauseHook): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        await pause(activity, 'start');
        const result = await next(input);
        await pause(activity, 'end');
        return result;
      },
    },
  });
}
