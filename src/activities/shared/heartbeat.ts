// Heartbeats let Temporal notice a dead worker within the heartbeat timeout instead of the
// activity's whole start-to-close timeout. Outside an activity (unit tests) they no-op.
import { asTransferProgress } from '../../domain/transfer-progress';
import { currentActivity } from './activity-context';
import { reportProgress } from './progress-report';

export function beat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** Heartbeats every `everyMs` while `fn` runs, so any activity survives a slow step and a
 * killed worker is noticed quickly; `details` (progress) rides along when given, and a
 * transfer's text goes to the workflow's current details too (progress-report.ts). */
export async function withHeartbeat<T>(fn: () => Promise<T>, everyMs = 2000, details?: () => unknown): Promise<T> {
  if (!currentActivity()) return fn();
  const timer = setInterval(() => {
    const d = details?.();
    beat(d);
    const transfer = asTransferProgress(d);
    if (transfer) reportProgress(transfer.text);
  }, everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
