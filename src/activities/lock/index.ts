// Who holds the deployment? Mutating operations share the deployment's workflow id
// (invariant 5), so asking Temporal about that id answers it. A scheduled drill asks
// before it starts: it is read-only and would not be refused, but a drill of a database
// that a restore or an upgrade is changing tests nothing, so it is skipped, saying why.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { mutatingWorkflowId } from '../../domain/workflow-ids';

export interface HeldBy {
  workflowId: string;
  /** The workflow type: upgrade, restore, backup … */
  type: string;
}

export function deploymentLockActivities() {
  return {
    async operationHolding(input: { deployment: string }): Promise<HeldBy | null> {
      const workflowId = mutatingWorkflowId(input.deployment);
      try {
        const d = await Context.current().client.workflow.getHandle(workflowId).describe();
        return d.status.name === 'RUNNING' ? { workflowId, type: d.type } : null;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    },
  };
}
