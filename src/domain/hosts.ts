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

/** `day2 worker --host NAME`'s message when no worker polls a host's queue. */
export const noWorkerForHost = (host: string, queue: string) =>
  `no day2 worker serves host ${host} (task queue ${queue}): nothing was started. Start one there: day2 worker --host ${host}`;
