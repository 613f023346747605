// The activity interceptors the worker registers: they wrap every activity, so none
// repeats them. Heartbeating is outermost, so a test pause is heartbeated through too.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { heartbeatInterceptor } from './heartbeat';
import { pauseInterceptor, type PauseHook } from './test-pause';

/** `pause`: the test-only pause hook (DAY2_TEST_PAUSE); production workers have none. */
export function activityInterceptors(pause?: PauseHook): ActivityInterceptorsFactory[] {
  return [heartbeatInterceptor, ...(pause ? [pauseInterceptor(pause)] : [])];
}
