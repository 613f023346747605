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
  const { workflowId, runId } = await startOperation(ctx, req);
  ctx.say(`started ${req.operation} on ${req.deployment}: ${workflowId} (run ${runId})`);
  ctx.say(`  Web UI: ${ctx.uiLink(workflowId, runId)}`);
  if (opts.detach) {
    ctx.json({ workflowId, runId, status: 'STARTED' });
    return 0;
  }
  // Following needs the SDK (queries, the result's long poll) whichever way it started.
  const handle = (await ctx.client()).workflow.getHandle(workflowId, undefined, { firstExecutionRunId: runId });
  const outcome = await follow(ctx, handle);
  judge?.(outcome);
  await printOutcome(ctx, handle, outcome);
  return outcome.exitCode;
}
