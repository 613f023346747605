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
import { DEFAULT_HOST_WAIT_SECONDS, HOST_MEMO, HOST_WAIT_MEMO, hostTaskQueue } from '../domain/hosts';
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

/** `day2@east` → `east`, for a queue of the control queue's hosts. */
function hostOfQueue(queue: string): string | undefined {
  const prefix = `${workflowInfo().taskQueue}@`;
  return queue.startsWith(prefix) ? queue.slice(prefix.length) : undefined;
}

function notPickedUp(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

/** Set while this interceptor schedules an activity anew, so that call is not watched twice. */
let rescheduling = false;

type ScheduleInput = Parameters<typeof scheduleActivity>;

async function watched<T>(first: Promise<T>, again: (waitMs: number) => Promise<T>, host: string, queue: string): Promise<T> {
  const since = new Date().toISOString();
  let end: (() => void) | undefined;
  let wait = waitSeconds();
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
        const host = taskQueue && hostOfQueue(taskQueue);
        if (!taskQueue || !host) return next(input);
        const options = { ...input.options, taskQueue };
        const again = (waitMs: number) => {
          const args: ScheduleInput = [input.activityType, input.args, { ...options, scheduleToStartTimeout: waitMs }];
          rescheduling = true;
          try {
            return scheduleActivity(...args);
          } finally {
            rescheduling = false;
          }
        };
        const first = next({ ...input, options: { ...options, scheduleToStartTimeout: waitSeconds() * 1000 } });
        return watched(first, again, host, taskQueue);
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
