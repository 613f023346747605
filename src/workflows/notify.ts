// Tells the deployment's webhook (and the worker's metrics) how an operation ended, as
// backup.sh and dr-test.sh did. The notification never changes the operation's outcome: a
// webhook that stays down shows as a failed activity in the Web UI, and the operation ends
// as it would have.
import { CancellationScope, metricMeter, patched, workflowInfo } from '@temporalio/workflow';
import { deepestMessage } from '../domain/failure-chain';
import { LAST_SUCCESS_GAUGE, lastSuccessSeconds } from '../domain/staleness';
import type { Operation, OperationEvent } from '../domain/types';
import { quick } from './activity-proxies';
import { PATCHES } from '../domain/patches';

/** How a run ended. `succeeded`: the operations whose staleness gauge this run renews
 * (default: `operation` when ok) — a backup whose off-site copy failed is not ok, yet its
 * local backup is verified: `['backup']`. */
export interface Verdict {
  ok: boolean;
  detail: string;
  succeeded?: string[];
}

/** Runs `operation` and reports its end: `judge` says whether a result is a success. */
export async function reportOutcome<T>(
  operation: Operation,
  deployment: string,
  run: () => Promise<T>,
  judge: (result: T) => Verdict,
): Promise<T> {
  // Runs started before notifications existed replay without them.
  if (!patched(PATCHES.notifyWebhook)) return run();
  let result: T;
  try {
    result = await run();
  } catch (err) {
    await notify({ operation, deployment, outcome: 'failed', detail: deepestMessage(err) });
    throw err;
  }
  const { ok, detail, succeeded = ok ? [operation] : [] } = judge(result);
  for (const done of succeeded) recordLastSuccess(deployment, done);
  await notify({ operation, deployment, outcome: ok ? 'succeeded' : 'failed', detail });
  return result;
}

/** Tells the webhook a scheduled run was skipped (another operation held the deployment):
 * repeated skips must not go unnoticed. Not a success, not a failure: no gauge moves. */
export async function notifySkipped(operation: Operation, deployment: string, reason: string): Promise<void> {
  await notify({ operation, deployment, outcome: 'skipped', detail: reason });
}

async function notify(event: Pick<OperationEvent, 'operation' | 'deployment' | 'outcome' | 'detail'>): Promise<void> {
  recordOutcome(event);
  const { workflowId, runId } = workflowInfo();
  const full: OperationEvent = { ...event, workflowId, runId, at: new Date().toISOString() };
  // A cancelled operation still reports how it ended.
  await CancellationScope.nonCancellable(() =>
    quick.notifyWebhook.executeWithOptions({ summary: `Tell ${event.deployment}'s webhook: ${event.operation} ${event.outcome}` }, [full]),
  ).catch(() => undefined);
}

/** The runbooks' `backup_success` metric, for every reported operation, on the worker's
 * Prometheus endpoint (DAY2_METRICS_ADDRESS): alert on `day2_operation_success == 0`.
 * The SDK emits workflow metrics once, not again on replay. */
function recordOutcome(event: Pick<OperationEvent, 'operation' | 'deployment' | 'outcome'>): void {
  const tags = { deployment: event.deployment, operation: event.operation };
  if (event.outcome === 'skipped') {
    metricMeter
      .createCounter('day2_operations', '', 'Operations ended, by outcome')
      .withTags({ ...tags, outcome: event.outcome })
      .add(1);
    return;
  }
  metricMeter
    .createGauge('day2_operation_success', 'int', '', 'Whether the last run of the operation succeeded (1) or failed (0)')
    .withTags(tags)
    .set(event.outcome === 'succeeded' ? 1 : 0);
  metricMeter
    .createCounter('day2_operations', '', 'Operations ended, by outcome')
    .withTags({ ...tags, outcome: event.outcome })
    .add(1);
}

/** `day2_last_success_timestamp_seconds{deployment,operation}`: any operation name, so the
 * off-site copy can report as 'offsite'. A worker that restarts recovers it from visibility
 * (src/last-success-recovery.ts) with the same tags the SDK adds here (namespace,
 * taskQueue, workflowType), so both land on one series. */
function recordLastSuccess(deployment: string, operation: string): void {
  metricMeter
    .createGauge(LAST_SUCCESS_GAUGE.name, 'int', '', LAST_SUCCESS_GAUGE.description)
    .withTags({ deployment, operation })
    .set(lastSuccessSeconds(workflowInfo().startTime));
}
