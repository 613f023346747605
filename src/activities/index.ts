// Builds every activity the worker registers, one factory per folder. What wraps them all
// (heartbeats, the test pause) is in interceptors/, registered by the worker.
import { supportBundleActivities } from './bundle';
import { checksActivities } from './checks';
import { databaseActivities } from './database';
import { drillActivities } from './drill';
import type { PauseHook } from './interceptors/test-pause';
import { deploymentLockActivities } from './lock';
import { notifyActivities } from './notify';
import { offsiteActivities } from './offsite';
import { pgbackrestActivities } from './pgbackrest';
import { runtimeActivities } from './runtime';
import { secretsActivities } from './secrets';
import { activityDeps, type ActivitySource } from './shared/deps';

/** `pause`: the test-only hook, for the pause point inside copyOffsite. */
export function createActivities(source: ActivitySource, pause?: PauseHook) {
  const deps = activityDeps(source);
  return {
    ...databaseActivities(deps),
    ...drillActivities(deps),
    ...runtimeActivities(deps),
    ...checksActivities(deps),
    ...secretsActivities(deps),
    ...supportBundleActivities(deps),
    ...notifyActivities(deps),
    ...offsiteActivities(deps, pause),
    ...pgbackrestActivities(deps),
    ...deploymentLockActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
