// The rows of `day2 list`: from Temporal's HTTP API when temporal.httpAddress names it (no
// SDK to load, so the command answers in a fraction of the time), else through the SDK's
// gRPC client. Both give the same rows; a row's result is read only when asked for.
import { DEPLOYMENT, OPERATION, WAITING_GATE } from '../domain/search-attributes';
import type { CliContext } from './context';
import { describeAll } from './follow';
import type { WorkflowRun } from './workflow-run';

export interface ListedOperation extends WorkflowRun {
  operation?: string;
  deployment?: string;
  /** The gate it waits at, if any. */
  gate?: string;
  /** The run's result (read from its close event): for COMPLETED runs only. */
  result(): Promise<unknown>;
}

export async function listOperations(ctx: CliContext, query: string, limit: number): Promise<ListedOperation[]> {
  const api = ctx.http();
  if (api) {
    const keyword = (attrs: Record<string, unknown>, name: string) =>
      typeof attrs[name] === 'string' ? (attrs[name] as string) : undefined;
    return (await api.listWorkflows(query, limit)).map((wf) => ({
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: wf.type,
      status: wf.status,
      startTime: wf.startTime,
      closeTime: wf.closeTime,
      operation: keyword(wf.searchAttributes, OPERATION.name),
      deployment: keyword(wf.searchAttributes, DEPLOYMENT.name),
      gate: keyword(wf.searchAttributes, WAITING_GATE.name) || undefined,
      result: () => api.result(wf.workflowId, wf.runId),
    }));
  }
  const client = await ctx.client();
  return (await describeAll(client, query, limit)).map((wf) => ({
    workflowId: wf.workflowId,
    runId: wf.runId,
    type: wf.type,
    status: wf.status.name,
    startTime: wf.startTime,
    closeTime: wf.closeTime,
    operation: wf.typedSearchAttributes.get(OPERATION),
    deployment: wf.typedSearchAttributes.get(DEPLOYMENT),
    gate: wf.typedSearchAttributes.get(WAITING_GATE) || undefined,
    result: () => client.workflow.getHandle(wf.workflowId, wf.runId).result(),
  }));
}
