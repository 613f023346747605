// Builds every activity from the config. Each activity is wrapped so it heartbeats while
// it runs: a worker killed mid-activity is noticed within the heartbeat timeout.
import { processSettings } from '../config';
import type { ActivityDeps } from './shared/deps';
import { checksActivities } from '../checks';
import { configFreshness, type ConfigFreshness } from './interceptors/config-freshness';
import { databaseActivities } from './database';
import { deploymentLockActivities } from './lock';
import { drillActivities } from './drill';
import { healthActivities } from './runtime/health';
import { withHeartbeat } from './shared/heartbeat';
import { notifyActivities } from './notify';
import { offsiteActivities } from './offsite';
import { pgbackrestActivities } from './pgbackrest';
import { releaseFileActivities } from './runtime/release-files';
import { runtimeActivities } from './runtime';
import { secretsActivities } from './secrets';
import { supportBundleActivities } from './bundle';
import { testPauseHook, type PauseHook } from './interceptors/test-pause';

export function createActivities(deps: ActivityDeps) {
  const settings = processSettings();
  const pause = testPauseHook(settings.testPause, settings.testPauseSeconds, deps.logger);
  const all = {
    ...databaseActivities(deps),
    ...drillActivities(deps),
    ...runtimeActivities(deps),
    ...healthActivities(deps),
    ...checksActivities(deps),
    ...secretsActivities(deps),
    ...releaseFileActivities(deps),
    ...supportBundleActivities(deps),
    ...notifyActivities(deps),
    ...offsiteActivities(deps, pause),
    ...pgbackrestActivities(deps),
    ...deploymentLockActivities(),
  };
  const freshness = deps.configFile ? configFreshness(deps.config, deps.configFile, deps.logger) : undefined;
  return heartbeating(all, pause, freshness);
}

export type Activities = ReturnType<typeof createActivities>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function heartbeating<T extends Record<string, (...args: any[]) => Promise<any>>>(activities: T, pause?: PauseHook, freshness?: ConfigFreshness): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    const run = (...args: unknown[]) => {
      freshness?.ensureFresh();
      return fn(...args);
    };
    wrapped[name] = pause
      ? (...args: unknown[]) =>
          withHeartbeat(async () => {
            await pause(name, 'start');
            const result = await run(...args);
            await pause(name, 'end');
            return result;
          })
      : (...args: unknown[]) => withHeartbeat(() => run(...args));
  }
  return wrapped as T;
}
