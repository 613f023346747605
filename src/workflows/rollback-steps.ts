// The steps both rollbacks (from a dump, to a WAL point) share: the target release is
// pulled before anything changes, falling back to a copy already present (a registry outage
// must not block an undo); then version, restore and version check run together.
import { long, quick } from './activity-proxies';
import type { ProgressTracker } from './progress';
import { verifyServiceVersion } from './release-checks';

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

/** Write the release version, restore and restart (`restore`: the method's own child), verify
 * the version; `lostSince` is read once the version is written, just before the restore. */
export async function switchRelease<R>(
  progress: ProgressTracker,
  deployment: string,
  target: string,
  lostSince: () => number,
  restore: { run: () => Promise<R>; describe: (r: R) => string },
): Promise<{ lostSeconds: number; restored: R }> {
  await progress.step('Write release version', () =>
    quick.writeReleaseVersion.executeWithOptions({ summary: `Write ${target} into the env file and the version file` }, [
      { deployment, version: target },
    ]),
  );
  const lostSeconds = lostSince();
  const restored = await progress.step('Restore backup and restart', restore.run, restore.describe);
  await progress.step(
    'Verify version',
    () => verifyServiceVersion(deployment, target),
    (v) => v,
  );
  return { lostSeconds, restored };
}
