// Rolling an API key secret rotation back before its re-hash was approved. Back to the
// previous secret without losing a key: keys hashed under the new secret during the window
// (a test key, say) are re-hashed back while both secrets are still accepted, and only then
// is the new secret dropped. Runs to its end even if the workflow is cancelled meanwhile.
import { failure } from '../domain/failures';
import type { ApiKeySecretPair } from '../domain/rotation';
import type { CheckResult } from '../domain/types';
import { long, quick } from './activity-proxies';
import { uninterruptible } from './cancellation';
import { errorMessage, type ProgressTracker } from './progress';
import { describeRestart, restartAndVerify, verifiedRestart } from './rotation-restart';

/** The rollback's checks; if the rollback itself fails, a RollbackFailed saying why it
 * started (`why`) and where it stopped. */
export async function rollBackApiKeyRotation(
  deployment: string,
  pair: ApiKeySecretPair,
  progress: ProgressTracker,
  why: string,
): Promise<CheckResult[]> {
  try {
    return await uninterruptible(() => rollBack(deployment, pair, progress));
  } catch (err) {
    progress.finish(`rollback failed: ${errorMessage(err)}`);
    throw failure(
      'RollbackFailed',
      `${why}, and the rollback failed: ${errorMessage(err)}. The env file names both secrets ` +
        `(${pair.previousFp} and ${pair.currentFp}); the workflow's steps show how far it got.`,
    );
  }
}

async function rollBack(deployment: string, pair: ApiKeySecretPair, progress: ProgressTracker): Promise<CheckResult[]> {
  const { previousFp: oldFp, currentFp: newFp } = pair;
  await progress.step(
    'Roll back: previous secret current again',
    () =>
      quick.restorePreviousApiKeySecret.executeWithOptions(
        { summary: `Make ${oldFp} ${deployment}'s API key secret again, keeping ${newFp} as the previous one` },
        [{ deployment, ...pair }],
      ),
    (r) => (r.changed ? `current ${oldFp}, previous ${newFp}` : 'already done'),
  );
  await progress.step(
    'Roll back: restart with both secrets',
    () => restartAndVerify(deployment, 'rollback, both secrets'),
    describeRestart,
  );
  await progress.step(
    'Roll back: re-hash keys back',
    () =>
      long.rehashApiKeys.executeWithOptions({ summary: `Re-hash any API key of ${deployment} made under ${newFp} back under ${oldFp}` }, [
        { deployment },
      ]),
    () => `every API key under ${oldFp}`,
  );
  const report = await progress.step(
    'Roll back: remove new secret and restart',
    async () => {
      await quick.removePreviousApiKeySecret.executeWithOptions(
        { summary: `Remove the new API key secret ${newFp} from ${deployment}'s env file` },
        [{ deployment, keepFp: oldFp }],
      );
      return verifiedRestart(deployment, 'rolled back', `The previous secret ${oldFp} is current again.`);
    },
    describeRestart,
  );
  return report.checks;
}
