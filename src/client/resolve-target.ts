// Commands that act on one operation accept either a deployment name (its mutating
// operation, `day2-<name>`) or a workflow id, so a person can type `day2 status ledger`.
import { BadInputError } from '../domain/errors';
import { mutatingWorkflowId, MUTATING_PREFIX } from '../domain/workflow-ids';
import type { CliContext } from './context';

export function resolveWorkflowId(ctx: CliContext, target: string | undefined): string {
  if (!target) {
    const names = Object.keys(ctx.config.deployments);
    if (names.length === 1) return mutatingWorkflowId(names[0]!);
    throw new BadInputError('name a deployment or a workflow id', `deployments: ${names.join(', ')}`);
  }
  return ctx.config.deployments[target] && !target.startsWith(MUTATING_PREFIX) ? mutatingWorkflowId(target) : target;
}
