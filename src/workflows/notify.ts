// Tells the deployment's webhook how an operation ended, as backup.sh and dr-test.sh did.
// The notification never changes the operation's outcome: a webhook that stays down shows
// as a failed activity in the Web UI, and the operation ends as it would have.
import { CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import { deepestMessage } from '../domain/failure-chain';
import type { Operation, OperationEvent } from '../domain/types';
import { quick } from './activity-proxies';

/** Runs `operation` and reports its end: `judge` says whether a result is a success. */
export async function reportOutcome<T>(
  operation: Operation,
  deployment: string,
  run: () => Promise<T>,
  judge: (result: T) => { ok: boolean; detail: string },
): Promise<T> {
  // Runs started before notifications existed replay without them.
  if (!patched('notify-webhook')) return run();
  let result: T;
  try {
    result = await run();
  } catch (err) {
    await notify({ operation, deployment, outcome: 'failed', detail: deepestMessage(err) });
    throw err;
  }
  const { ok, detail } = judge(result);
  await notify({ operation, deployment, outcome: ok ? 'succeeded' : 'failed', detail });
  return result;
}

async function notify(event: Pick<OperationEvent, 'operation' | 'deployment' | 'outcome' | 'detail'>): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  const full: OperationEvent = { ...event, workflowId, runId, at: new Date().toISOString() };
  // A cancelled operation still reports how it ended.
  await CancellationScope.nonCancellable(() =>
    quick.notifyWebhook.executeWithOptions({ summary: `Tell ${event.deployment}'s webhook: ${event.operation} ${event.outcome}` }, [full]),
  ).catch(() => undefined);
}
