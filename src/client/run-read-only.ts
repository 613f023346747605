// Read-only workflows (listing backups, preflight) run under their own time-stamped id, so
// they never wait for, or block, the operation that holds the deployment.
import { TimeoutFailure } from '@temporalio/client';
import type { CliContext } from './context';
import { assertHostsServed, hostMemo } from './host-workers';
import { BadInputError } from '../domain/errors';
import { isBadInput } from '../domain/failures';
import { deepestMessage, failureType } from '../domain/failure-chain';
import { workflowIdOf, type ReadOnlyOperation } from '../domain/operations';
import type { InputOf, OperationWorkflow, ResultOf, WorkflowFn } from './workflow-types';

export interface ReadOnlyRun<O extends ReadOnlyOperation, W extends OperationWorkflow<O>> {
  /** Names the workflow id (`day2-<deployment>-<operation>-<time>`) and error messages. */
  operation: O;
  workflowType: W;
  deployment: string;
  /** What it does, for errors: "list ledger's backups". */
  what: string;
  input: InputOf<W>;
  /** Printed with the Web UI link before waiting; none for quick reads. */
  announce?: boolean;
  timeout?: string;
}

export async function runReadOnly<O extends ReadOnlyOperation, W extends OperationWorkflow<O>>(
  ctx: CliContext,
  run: ReadOnlyRun<O, W>,
): Promise<ResultOf<W>> {
  const client = await ctx.client();
  await assertHostsServed(ctx, [run.deployment]);
  const workflowId = workflowIdOf(run.operation, run.deployment, new Date());
  const handle = await client.workflow.start<WorkflowFn<W>>(run.workflowType, {
    workflowId,
    taskQueue: ctx.config.temporal.taskQueue,
    args: [run.input] as Parameters<WorkflowFn<W>>,
    memo: hostMemo(ctx, run.deployment),
    // A read must not hang when no worker serves the task queue: say so instead.
    workflowExecutionTimeout: run.timeout ?? '1 minute',
  });
  if (run.announce) {
    ctx.say(`started ${run.operation} of ${run.deployment}: ${workflowId} (run ${handle.firstExecutionRunId})`);
    ctx.say(`  Web UI: ${ctx.uiLink(workflowId, handle.firstExecutionRunId)}`);
  }
  return (handle.result() as Promise<ResultOf<W>>).catch((err: Error) => {
    // Bad input found by the worker (no such backup, say) is still bad input: exit 2.
    if (isBadInput(failureType(err))) throw new BadInputError(`could not ${run.what}: ${deepestMessage(err)}`);
    // Timed out without a word: most likely no worker serves the task queue.
    const hint = err.cause instanceof TimeoutFailure ? ` — is a day2 worker running on task queue '${ctx.config.temporal.taskQueue}'?` : '';
    throw new Error(`could not ${run.what}: ${deepestMessage(err)}${hint}`);
  });
}
