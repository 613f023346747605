// Workflow interceptors (registered by the worker and the bundles): route every activity
// to the task queue of the host the workflow's deployment lives on, and hand that host to
// child workflows. The host arrives in the workflow's memo (set by whoever started it), so
// no workflow needs to know about hosts, and histories recorded before hosts existed (no
// memo) replay unchanged: their activities stay on the workflow's own queue.
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { HOST_MEMO, hostTaskQueue } from '../domain/hosts';

function currentHost(): string | undefined {
  const host = workflowInfo().memo?.[HOST_MEMO];
  return typeof host === 'string' ? host : undefined;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        // An explicit queue (the fleet's soak checks on a canary's host) is kept.
        const taskQueue = input.options.taskQueue ?? hostTaskQueue(workflowInfo().taskQueue, currentHost());
        return next(taskQueue ? { ...input, options: { ...input.options, taskQueue } } : input);
      },
      startChildWorkflowExecution(input, next) {
        const host = currentHost();
        if (!host || input.options.memo?.[HOST_MEMO] !== undefined) return next(input);
        return next({ ...input, options: { ...input.options, memo: { ...input.options.memo, [HOST_MEMO]: host } } });
      },
    },
  ],
});
