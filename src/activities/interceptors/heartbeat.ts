// Every activity heartbeats while it runs, so a worker killed mid-activity is noticed within
// the heartbeat timeout rather than the activity's whole start-to-close timeout.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withHeartbeat } from '../shared/heartbeat';

export const heartbeatInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: { execute: (input, next) => withHeartbeat(() => next(input)) },
});
