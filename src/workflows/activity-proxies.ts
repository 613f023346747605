// Activity options grouped by how long a call may take. Every activity heartbeats (see
// activities/interceptors/), so a dead worker is noticed within `heartbeatTimeout`.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE } from '../domain/failures';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 4,
  // A worker crash (heartbeat timeout) is always retried; these failures are answers.
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};

/** Reads, small file edits, process control. */
export const quick = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
});

/** Dumps, restores, migrations, readiness waits. */
export const long = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '10 seconds',
  retry,
});
