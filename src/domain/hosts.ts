// Which worker runs a deployment's activities. Workflows run on the control task queue
// (`temporal.taskQueue`); a deployment on host H has its activities on `<control>@H`, polled
// by `day2 worker --host H` there, since its env file, backups and runtime live on H.
// `local` (the default) is the control queue itself: one host needs no configuration.

export const LOCAL_HOST = 'local';

/** Memo key a workflow carries its deployment's host in (set at start, inherited by children). */
export const HOST_MEMO = 'day2Host';

/** The task queue of `host`'s activities; undefined for `local` (the control queue). */
export function hostTaskQueue(controlQueue: string, host: string | undefined): string | undefined {
  return host && host !== LOCAL_HOST ? `${controlQueue}@${host}` : undefined;
}

/** The host a task queue is of (`day2@east` → `east`); undefined for the control queue itself. */
export function hostOfTaskQueue(controlQueue: string, queue: string): string | undefined {
  const prefix = `${controlQueue}@`;
  return queue.startsWith(prefix) ? queue.slice(prefix.length) : undefined;
}

/** `day2 worker --host NAME`'s message when no worker polls a host's queue. */
export const noWorkerForHost = (host: string, queue: string) =>
  `no day2 worker serves host ${host} (task queue ${queue}): nothing was started. Start one there: day2 worker --host ${host}`;

/** Memo key: how long (seconds) an activity may wait on a host's queue before the workflow
 * says that no worker there picked it up (`temporal.hostWorkerWaitSeconds`). */
export const HOST_WAIT_MEMO = 'day2HostWaitSeconds';

/** Default of `temporal.hostWorkerWaitSeconds`: a live worker takes a task in milliseconds. */
export const DEFAULT_HOST_WAIT_SECONDS = 60;

/** A step waiting for a host worker that has not picked it up: in `progress` and the Web UI. */
export interface HostWait {
  host: string;
  queue: string;
  /** When the step was first scheduled there (workflow time, ISO). */
  since: string;
}

/** One line for `progress`, `status` and the Web UI. */
export const hostWaitText = (w: HostWait) =>
  `no day2 worker on host ${w.host} has picked up this step since ${w.since.slice(11, 19)} UTC (task queue ${w.queue}): ` +
  `is one running there? Start it: day2 worker --host ${w.host}`;
