// Workflow interceptors (registered by the worker and the bundles): route every activity
// to the task queue of the host the workflow's deployment lives on, and hand that host to
// child workflows. The host arrives in the workflow's memo (set by whoever started it), so
// no workflow needs to know about hosts, and histories recorded before hosts existed (no
// memo) replay unchanged: their activities stay on the workflow's own queue.
//
// A host worker that dies (or never started) would leave the activity waiting in its queue
// with nothing to show for it. So an activity on a host queue is scheduled with a
// schedule-to-start timeout: when nobody picks it up in time, the workflow says so (progress
// and the Web UI, via host-wait.ts) and schedules it again, waiting longer each time, until
// a worker takes it. Activities are idempotent, so scheduling one anew is safe.
import { ActivityFailure, scheduleActivity, TimeoutFailure, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { DEFAULT_HOST_WAIT_SECONDS, HOST_MEMO, HOST_WAIT_MEMO, hostOfTaskQueue, hostTaskQueue } from '../domain/hosts';
import { hostWaitBegan } from './host-wait';

/** The longest wait between two schedulings: keeps a day-long outage to a few hundred events. */
const MAX_WAIT_SECONDS = 600;

function memo(key: string): unknown {
  return workflowInfo().memo?.[key];
}

function currentHost(): string | undefined {
  const host = memo(HOST_MEMO);
  return typeof host === 'string' ? host : undefined;
}

function waitSeconds(): number {
  const seconds = memo(HOST_WAIT_MEMO);
  return typeof seconds === 'number' && seconds > 0 ? seconds : DEFAULT_HOST_WAIT_SECONDS;
}

function notPickedUp(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

/** Set while this interceptor schedules an activity anew, so that call is not watched twice. */
let rescheduling = false;

/** `first`, scheduled with a schedule-to-start timeout of `wait` seconds, and then `again`
 * with twice the wait each time nobody picked it up. */
async function watched<T>(first: Promise<T>, wait: number, again: (waitMs: number) => Promise<T>, host: string, queue: string): Promise<T> {
  const since = new Date().toISOString();
  let end: (() => void) | undefined;
  let attempt = first;
  try {
    for (;;) {
      try {
        return await attempt;
      } catch (err) {
        if (!notPickedUp(err)) throw err;
        end ??= hostWaitBegan({ host, queue, since });
        wait = Math.min(wait * 2, MAX_WAIT_SECONDS);
        attempt = again(wait * 1000);
      }
    }
  } finally {
    end?.();
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        if (rescheduling) return next(input);
        // An explicit queue (the fleet's soak checks on a canary's host) is kept.
        const taskQueue = input.options.taskQueue ?? hostTaskQueue(workflowInfo().taskQueue, currentHost());
        const host = taskQueue && hostOfTaskQueue(workflowInfo().taskQueue, taskQueue);
        if (!taskQueue || !host) return next(input);
        const options = { ...input.options, taskQueue };
        const again = (waitMs: number) => {
          rescheduling = true;
          try {
            return scheduleActivity(input.activityType, input.args, { ...options, scheduleToStartTimeout: waitMs });
          } finally {
            rescheduling = false;
          }
        };
        const wait = waitSeconds();
        const first = next({ ...input, options: { ...options, scheduleToStartTimeout: wait * 1000 } });
        return watched(first, wait, again, host, taskQueue);
      },
      startChildWorkflowExecution(input, next) {
        const inherited: Record<string, unknown> = {};
        for (const key of [HOST_MEMO, HOST_WAIT_MEMO]) {
          const value = memo(key);
          if (value !== undefined && input.options.memo?.[key] === undefined) inherited[key] = value;
        }
        if (!Object.keys(inherited).length) return next(input);
        return next({ ...input, options: { ...input.options, memo: { ...input.options.memo, ...inherited } } });
      },
    },
  ],
});
