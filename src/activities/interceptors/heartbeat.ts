// Every activity heartbeats while it runs, so a worker killed mid-activity is noticed within
// the heartbeat timeout rather than the activity's whole start-to-close timeout; and a
// long one signals its workflow how far it is (shared/progress-report.ts).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withHeartbeat } from '../shared/heartbeat';
import { withProgressReports } from '../shared/progress-report';

export const heartbeatInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: { execute: (input, next) => withProgressReports(() => withHeartbeat(() => next(input))) },
});
