// Which day2 workflows wait at a gate right now. Visibility (the Day2Gate search attribute)
// says where to look; the workflow's own `progress` query has the last word, because
// visibility lags a little behind the workflow and a gate may have been decided since.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../domain/messages';
import type { GateState, Progress } from '../domain/types';
import { MUTATING_WORKFLOW_TYPES } from '../domain/operations';

export interface WaitingGate {
  workflowId: string;
  runId: string;
  deployment: string;
  gate: GateState;
  progress: Progress;
}

/** `gate@since` names one wait: the same gate entered again later is a new one. */
export const waitKey = (w: { workflowId: string; runId: string; gate: GateState }) =>
  `${w.workflowId}/${w.runId}/${w.gate.name}@${w.gate.since}`;

const QUERY_DEADLINE_MS = 5_000;

/** Gates waiting in the given deployments (the approver only knows those deployments' gate policies). */
export async function findWaitingGates(client: Client, deployments: readonly string[]): Promise<WaitingGate[]> {
  if (deployments.length === 0) return [];
  const candidates = await listCandidates(client, deployments);
  const found: WaitingGate[] = [];
  for (const { workflowId, runId } of candidates) {
    const progress = await currentProgress(client, client.workflow.getHandle(workflowId, runId));
    if (!progress?.gate || !deployments.includes(progress.deployment)) continue;
    found.push({ workflowId, runId, deployment: progress.deployment, gate: progress.gate, progress });
  }
  return found;
}

async function listCandidates(client: Client, deployments: readonly string[]) {
  const inDeployments = `Day2Deployment IN (${deployments.map((d) => `'${d.replace(/'/g, '')}'`).join(', ')})`;
  try {
    return await list(client, `ExecutionStatus = 'Running' AND Day2Gate != '' AND ${inDeployments}`);
  } catch (err) {
    // A cluster without day2's search attributes registered refuses the query: fall back
    // to every running workflow of a mutating operation (the ones with gates), and let the
    // progress query decide.
    if (!/search attribute|Day2/i.test((err as Error).message)) throw err;
    const running = await list(client, `ExecutionStatus = 'Running'`);
    return running.filter((w) => MUTATING_WORKFLOW_TYPES.includes(w.type));
  }
}

async function list(client: Client, query: string): Promise<Array<{ workflowId: string; runId: string; type: string }>> {
  const rows: Array<{ workflowId: string; runId: string; type: string }> = [];
  for await (const wf of client.workflow.list({ query })) rows.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type });
  return rows;
}

/** The workflow's progress, or undefined when it has closed or no worker answers in time. */
export async function currentProgress(client: Client, handle: WorkflowHandle): Promise<Progress | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
  } catch {
    return undefined;
  }
}
