// Running a mutating operation from the CLI: start it under the deployment's id, show its
// Web UI link, follow it unless detached, print how it ended; the exit code says it.
import type { MutatingOperation } from '../domain/operations';
import type { CliContext } from './context';
import { follow, printOutcome, type FollowOutcome } from './follow';
import { startOperation, type StartRequest } from './start-operation';
import type { OperationWorkflow } from './workflow-types';

export interface RunOptions {
  deployment?: string;
  detach?: boolean;
}

/** Starts the operation's workflow, prints its Web UI link, follows unless --detach;
 * `judge` may refine the outcome from the result (an upgrade that did not upgrade). */
export async function runOperation<O extends MutatingOperation, W extends OperationWorkflow<O>>(
  ctx: CliContext,
  req: StartRequest<O, W>,
  opts: RunOptions,
  judge?: (outcome: FollowOutcome) => void,
): Promise<number> {
  const handle = await startOperation(ctx, req);
  ctx.say(`started ${req.operation} on ${req.deployment}: ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
  ctx.say(`  Web UI: ${ctx.uiLink(handle.workflowId, handle.firstExecutionRunId)}`);
  if (opts.detach) {
    ctx.json({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, status: 'STARTED' });
    return 0;
  }
  const outcome = await follow(ctx, handle);
  judge?.(outcome);
  await printOutcome(ctx, handle, outcome);
  return outcome.exitCode;
}
