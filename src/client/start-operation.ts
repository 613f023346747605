// Starts a mutating operation under the deployment's single workflow id. Temporal refuses
// a second start while one runs; we turn that into a refusal naming the running one.
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { progressQuery } from '../domain/messages';
import { DEPLOYMENT, OPERATION, TARGET_VERSION } from '../domain/search-attributes';
import type { Operation } from '../domain/types';
import { mutatingWorkflowId } from '../domain/workflow-ids';
import type { CliContext } from './context';

export class RefusedError extends Error {
  override readonly name = 'Refused';
}

export interface StartRequest {
  operation: Operation;
  workflowType: string;
  deployment: string;
  args: unknown[];
  targetVersion?: string;
}

export async function startOperation(ctx: CliContext, req: StartRequest): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const client = await ctx.client();
  const workflowId = mutatingWorkflowId(req.deployment);
  try {
    return await client.workflow.start(req.workflowType, {
      workflowId,
      taskQueue: ctx.config.temporal.taskQueue,
      args: req.args,
      typedSearchAttributes: [
        { key: DEPLOYMENT, value: req.deployment },
        { key: OPERATION, value: req.operation },
        ...(req.targetVersion ? [{ key: TARGET_VERSION, value: req.targetVersion }] : []),
      ],
      staticSummary: `day2 ${req.operation} on ${req.deployment}${req.targetVersion ? ` → ${req.targetVersion}` : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new RefusedError(await busyMessage(ctx, workflowId, req.deployment));
    throw err;
  }
}

/** "deployment ledger is busy: restore (workflow day2-ledger, run …) waiting at gate …". */
export async function busyMessage(ctx: CliContext, workflowId: string, deployment: string): Promise<string> {
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
