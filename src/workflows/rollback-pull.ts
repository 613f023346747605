// The first changing-nothing step of both rollbacks (from a dump, to a WAL point): the
// target release is pulled before anything changes, falling back to a copy already present
// (a registry outage must not block an undo).
import { long } from './activity-proxies';
import type { ProgressTracker } from './progress';

export function pullRollbackRelease(progress: ProgressTracker, deployment: string, target: string) {
  return progress.step(
    'Pull release',
    () =>
      long.pullRelease.executeWithOptions({ summary: `Pull release ${target} (fall back to a copy already present)` }, [
        { deployment, version: target, allowPresentFallback: true },
      ]),
    (r) => (r.usedPresent ? `warning: ${r.warning}` : `pulled ${target}`),
  );
}
