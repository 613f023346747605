// Read-only workflows (listing backups, preflight) run under their own time-stamped id, so
// they never wait for, or block, the operation that holds the deployment.
import { TimeoutFailure } from '@temporalio/client';
import type { CliContext } from './context';
import { BadInputError } from '../domain/errors';
import { isBadInput } from '../domain/failures';
import { deepestMessage, failureType } from '../domain/failure-chain';
import { readOnlyWorkflowId } from '../domain/workflow-ids';

export interface ReadOnlyRun {
  workflowType: string;
  deployment: string;
  /** Names the workflow id (`day2-<deployment>-<operation>-<time>`) and error messages. */
  operation: string;
  /** What it does, for errors: "list ledger's backups". */
  what: string;
  input: unknown;
  /** Printed with the Web UI link before waiting; none for quick reads. */
  announce?: boolean;
  timeout?: string;
}

export async function runReadOnly<T>(ctx: CliContext, run: ReadOnlyRun): Promise<T> {
  const client = await ctx.client();
  const workflowId = readOnlyWorkflowId(run.deployment, run.operation, new Date());
  const handle = await client.workflow.start(run.workflowType, {
    workflowId,
    taskQueue: ctx.config.temporal.taskQueue,
    args: [run.input],
    // A read must not hang when no worker serves the task queue: say so instead.
    workflowExecutionTimeout: run.timeout ?? '1 minute',
  });
  if (run.announce) {
    ctx.say(`started ${run.operation} of ${run.deployment}: ${workflowId} (run ${handle.firstExecutionRunId})`);
    ctx.say(`  Web UI: ${ctx.uiLink(workflowId, handle.firstExecutionRunId)}`);
  }
  return (handle.result() as Promise<T>).catch((err: Error) => {
    // Bad input found by the worker (no such backup, say) is still bad input: exit 2.
    if (isBadInput(failureType(err))) throw new BadInputError(`could not ${run.what}: ${deepestMessage(err)}`);
    // Timed out without a word: most likely no worker serves the task queue.
    const hint = err.cause instanceof TimeoutFailure ? ` — is a day2 worker running on task queue '${ctx.config.temporal.taskQueue}'?` : '';
    throw new Error(`could not ${run.what}: ${deepestMessage(err)}${hint}`);
  });
}
