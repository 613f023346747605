// What touches the running service: its runtime (stop, start, pull, migrate), its health
// and version answers, and the release files beside it.
import type { ActivityDeps } from '../shared/deps';
import { healthActivities } from './health';
import { releaseFileActivities } from './release-files';
import type { CommandRunner } from './select';
import { serviceActivities } from './service';

/** `run` is for tests; the worker uses the execa runner. */
export function runtimeActivities(deps: ActivityDeps, run?: CommandRunner) {
  return { ...serviceActivities(deps, run), ...healthActivities(deps), ...releaseFileActivities(deps) };
}
