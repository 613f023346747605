// The promote-fleet gate, for the automated approver: a fleet waits there after its canary
// wave, and the verdict comes from the canaries themselves — each must have succeeded and
// passed its verify checks (run by the fleet on the canary's own host; the approver may run
// on another machine, where those deployments' files are not).
import type { Client } from '@temporalio/client';
import type { Day2Config } from '../config';
import { fleetStatusQuery, type FleetStatus } from '../domain/fleet';
import { GATES } from '../domain/gate-names';
import type { Verdict } from './evaluate-gate';
import { currentProgress, type WaitingGate } from './find-waiting-gates';

export async function findWaitingFleetGates(client: Client): Promise<Array<WaitingGate & { fleet: FleetStatus }>> {
  const found: Array<WaitingGate & { fleet: FleetStatus }> = [];
  for await (const wf of client.workflow.list({
    query: `WorkflowType = 'fleet' AND ExecutionStatus = 'Running' AND Day2Gate = '${GATES.promoteFleet}'`,
  })) {
    const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
    const progress = await currentProgress(client, handle);
    if (progress?.gate?.name !== GATES.promoteFleet) continue;
    const fleet = await handle.query(fleetStatusQuery).catch(() => undefined);
    if (!fleet) continue;
    found.push({ workflowId: wf.workflowId, runId: wf.runId, deployment: `fleet ${fleet.fleetId}`, gate: progress.gate, progress, fleet });
  }
  return found;
}

export function fleetVerdict(config: Day2Config, fleet: FleetStatus): Verdict {
  const { policy } = config.fleet.promote;
  const evidence = fleet.canaryChecks ?? [];
  if (policy === 'manual') return { action: 'leave', reason: 'fleet.promote.policy manual: a person decides', evidence };
  const canaries = fleet.rows.filter((r) => r.wave === 0);
  const notOk = canaries.filter((r) => r.state !== 'succeeded').map((r) => `${r.deployment} ${r.state}`);
  const failed = evidence.filter((c) => !c.ok).map((c) => c.name);
  if (canaries.length === 0 || evidence.length === 0)
    return { action: 'leave', reason: 'no canary checks to decide on: a person decides', evidence };
  if (notOk.length || failed.length) {
    const why = [...notOk, ...failed.map((n) => `${n} failed`)].join('; ');
    return policy === 'auto'
      ? { action: 'reject', reason: `canaries not healthy: ${why} (fleet.promote.policy auto)`, evidence }
      : { action: 'leave', reason: `canaries not healthy: ${why}; auto-approve-only leaves it to a person`, evidence };
  }
  return {
    action: 'approve',
    reason: `${canaries.length} canary deployment(s) succeeded and passed ${evidence.length} check(s) (fleet.promote.policy ${policy})`,
    evidence,
  };
}
