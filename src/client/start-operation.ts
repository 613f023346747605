// Starts a mutating operation under the deployment's single workflow id. Temporal refuses
// a second start while one runs; we turn that into a refusal naming the running one.
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { progressQuery } from '../domain/messages';
import { DEPLOYMENT, OPERATION, TARGET_VERSION } from '../domain/search-attributes';
import { workflowIdOf, type MutatingOperation } from '../domain/operations';
import type { CliContext } from './context';
import { assertHostsServed, hostMemo } from './host-workers';
import { WorkflowRunningError } from './temporal-http';
import type { InputOf, OperationWorkflow, WorkflowFn } from './workflow-types';

export class RefusedError extends Error {
  override readonly name = 'Refused';
}

export interface StartRequest<O extends MutatingOperation, W extends OperationWorkflow<O>> {
  operation: O;
  /** One of the operation's workflows (src/domain/operations.ts); `input` is its argument. */
  workflowType: W;
  deployment: string;
  input: InputOf<W>;
  targetVersion?: string;
  /** When the deployment is busy, wait up to this long for it to be free instead of
   * refusing at once (e.g. a cron'd backup that lands during an upgrade). */
  waitIfBusySeconds?: number;
}

/** The operation's workflow as started: its id and first run. */
export interface StartedOperation {
  workflowId: string;
  runId: string;
}

export async function startOperation<O extends MutatingOperation, W extends OperationWorkflow<O>>(
  ctx: CliContext,
  req: StartRequest<O, W>,
): Promise<StartedOperation> {
  await assertHostsServed(ctx, [req.deployment]);
  const workflowId = workflowIdOf(req.operation, req.deployment, new Date());
  const deadline = Date.now() + (req.waitIfBusySeconds ?? 0) * 1000;
  for (let told = false; ;) {
    try {
      return { workflowId, runId: await startOnce(ctx, workflowId, req) };
    } catch (err) {
      // The SDK's error class is looked at only when the quick path's is not the one.
      if (!(err instanceof WorkflowRunningError || err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const busy = await busyMessage(ctx, workflowId, req.deployment);
      if (Date.now() >= deadline) {
        throw new RefusedError(req.waitIfBusySeconds ? `still busy after waiting ${req.waitIfBusySeconds} s: ${busy}` : busy);
      }
      if (!told) ctx.say(`waiting up to ${req.waitIfBusySeconds} s for the deployment to be free: ${busy.split('. ')[0]}`);
      told = true;
      // Whatever holds the deployment ends; then the start is tried again (another
      // operation may have taken it meanwhile: then wait for that one too).
      await waitWhileRunning((await ctx.client()).workflow.getHandle(workflowId), deadline);
    }
  }
}

/** One start, through the HTTP API when configured (no SDK to load), else the SDK: the
 * run id. Throws when the id is taken by a running workflow. */
async function startOnce<O extends MutatingOperation, W extends OperationWorkflow<O>>(
  ctx: CliContext,
  workflowId: string,
  req: StartRequest<O, W>,
): Promise<string> {
  const start = {
    workflowId,
    taskQueue: ctx.config.temporal.taskQueue,
    memo: hostMemo(ctx, req.deployment),
    staticSummary: `day2 ${req.operation} on ${req.deployment}${req.targetVersion ? ` → ${req.targetVersion}` : ''}`,
  };
  const attributes: Array<[SearchAttributeKey<'KEYWORD'>, string]> = [
    [DEPLOYMENT, req.deployment],
    [OPERATION, req.operation],
    ...(req.targetVersion ? [[TARGET_VERSION, req.targetVersion] as [SearchAttributeKey<'KEYWORD'>, string]] : []),
  ];
  const api = ctx.http();
  if (api) {
    return api.startWorkflow({
      ...start,
      workflowType: req.workflowType,
      args: [req.input],
      searchAttributes: Object.fromEntries(attributes.map(([key, value]) => [key.name, value])),
    });
  }
  const client = await ctx.client();
  const handle = await client.workflow.start<WorkflowFn<W>>(req.workflowType, {
    ...start,
    args: [req.input] as Parameters<WorkflowFn<W>>,
    typedSearchAttributes: attributes.map(([key, value]) => ({ key, value })),
  });
  return handle.firstExecutionRunId;
}

async function waitWhileRunning(handle: WorkflowHandle, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return;
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, deadline - Date.now()))));
  }
}

/** "deployment ledger is busy: restore (workflow day2-ledger, run …) waiting at gate …". */
async function busyMessage(ctx: CliContext, workflowId: string, deployment: string): Promise<string> {
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  let state = `running since ${desc.startTime.toISOString()}`;
  try {
    const p = await handle.query(progressQuery);
    const current = p.steps.find((s) => s.status === 'running' || s.status === 'waiting');
    state = p.gate ? `waiting at gate '${p.gate.name}'` : current ? `at step '${current.name}'` : state;
  } catch {
    // No worker to answer the query: the id and type still say enough.
  }
  return (
    `deployment ${deployment} is busy: ${desc.type} is ${state} (workflow ${workflowId}, run ${desc.runId}). ` +
    `Wait for it (day2 status ${workflowId} --follow), or decide its gate, or cancel it (day2 cancel ${workflowId}).`
  );
}
