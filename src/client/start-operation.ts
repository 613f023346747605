// Starts a mutating operation under the deployment's single workflow id. Temporal refuses
// a second start while one runs; we turn that into a refusal naming the running one.
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { progressQuery } from '../domain/messages';
import { DEPLOYMENT, OPERATION, TARGET_VERSION } from '../domain/search-attributes';
import { workflowIdOf, type MutatingOperation } from '../domain/operations';
import type { CliContext } from './context';
import { assertHostsServed, hostMemo } from './host-workers';
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

export async function startOperation<O extends MutatingOperation, W extends OperationWorkflow<O>>(
  ctx: CliContext,
  req: StartRequest<O, W>,
): Promise<WorkflowHandleWithFirstExecutionRunId<WorkflowFn<W>>> {
  const client = await ctx.client();
  await assertHostsServed(ctx, [req.deployment]);
  const workflowId = workflowIdOf(req.operation, req.deployment, new Date());
  const deadline = Date.now() + (req.waitIfBusySeconds ?? 0) * 1000;
  for (let told = false; ;) {
    try {
      return await client.workflow.start<WorkflowFn<W>>(req.workflowType, {
        workflowId,
        taskQueue: ctx.config.temporal.taskQueue,
        args: [req.input] as Parameters<WorkflowFn<W>>,
        memo: hostMemo(ctx, req.deployment),
        typedSearchAttributes: [
          { key: DEPLOYMENT, value: req.deployment },
          { key: OPERATION, value: req.operation },
          ...(req.targetVersion ? [{ key: TARGET_VERSION, value: req.targetVersion }] : []),
        ],
        staticSummary: `day2 ${req.operation} on ${req.deployment}${req.targetVersion ? ` → ${req.targetVersion}` : ''}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const busy = await busyMessage(ctx, workflowId, req.deployment);
      if (Date.now() >= deadline) {
        throw new RefusedError(req.waitIfBusySeconds ? `still busy after waiting ${req.waitIfBusySeconds} s: ${busy}` : busy);
      }
      if (!told) ctx.say(`waiting up to ${req.waitIfBusySeconds} s for the deployment to be free: ${busy.split('. ')[0]}`);
      told = true;
      // Whatever holds the deployment ends; then the start is tried again (another
      // operation may have taken it meanwhile: then wait for that one too).
      await waitWhileRunning(client.workflow.getHandle(workflowId), deadline);
    }
  }
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
