// Before starting an operation on a deployment of another host, make sure some worker polls
// that host's task queue: otherwise the workflow would start and its first activity would
// wait, silently, for a worker that never comes. Temporal's DescribeTaskQueue lists the
// pollers seen in the last few minutes, so a worker that died a minute ago still counts:
// the running operation then shows its activity waiting (day2 status).
import proto from '@temporalio/proto';
import { deploymentOf } from '../config';
import { HOST_MEMO, HOST_WAIT_MEMO, hostTaskQueue, noWorkerForHost } from '../domain/hosts';
import type { CliContext } from './context';
import { RefusedError } from './start-operation';

/** The memo a deployment's workflows start with: where its activities run, and how long
 * one may wait there unpicked before the workflow says so (none for `local`). */
export function hostMemo(ctx: CliContext, deployment: string): Record<string, string | number> | undefined {
  const host = deploymentOf(ctx.config, deployment).host;
  return hostTaskQueue(ctx.config.temporal.taskQueue, host) ? { [HOST_MEMO]: host, ...hostWaitMemo(ctx) } : undefined;
}

/** The fleet's memo: its children inherit the wait (each names its own host). */
export const hostWaitMemo = (ctx: CliContext) => ({ [HOST_WAIT_MEMO]: ctx.config.temporal.hostWorkerWaitSeconds });

/** How many workers polled `host`'s activity queue recently (always ≥ 1 for `local`: the
 * control worker serves it, and a missing control worker is another error). */
export async function hostPollers(ctx: CliContext, host: string): Promise<number | undefined> {
  const queue = hostTaskQueue(ctx.config.temporal.taskQueue, host);
  if (!queue) return undefined;
  const client = await ctx.client();
  const res = await client.workflowService.describeTaskQueue({
    namespace: ctx.config.temporal.namespace,
    taskQueue: { name: queue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return res.pollers?.length ?? 0;
}

/** Refuses (exit 3) when no worker serves the hosts of these deployments; nothing starts. */
export async function assertHostsServed(ctx: CliContext, deployments: readonly string[]): Promise<void> {
  const hosts = [...new Set(deployments.map((d) => deploymentOf(ctx.config, d).host))];
  const missing: string[] = [];
  for (const host of hosts) {
    if ((await hostPollers(ctx, host)) === 0) missing.push(noWorkerForHost(host, hostTaskQueue(ctx.config.temporal.taskQueue, host)!));
  }
  if (missing.length) throw new RefusedError(missing.join('\n'));
}
