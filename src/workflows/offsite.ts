// The off-site steps workflows share: copy a verified backup to the bucket (the backup
// workflow), and fetch a copy back into the backup directory (restore, rollback, drill),
// after which they run exactly their local, verified path on it.
import { isCancellation, metricMeter, patched, workflowInfo } from '@temporalio/workflow';
import { formatBytes } from '../domain/human-bytes';
import { failure } from '../domain/failures';
import { deepestMessage } from '../domain/failure-chain';
import type { OffsiteOutcome } from '../domain/offsite';
import { PATCHES } from '../domain/patches';
import { long, quick } from './activity-proxies';
import type { ProgressTracker } from './progress';

export const COPY_OFFSITE_STEP = 'Copy off-site';
export const FETCH_OFFSITE_STEP = 'Fetch off-site copy';

/** Uploads the backup, verifies it, applies remote retention. Never throws for a failed
 * copy (the local backup still counts): the outcome says why it failed. Undefined when no
 * `backup.offsite` is configured. */
export async function copyOffsiteStep(progress: ProgressTracker, deployment: string, file: string): Promise<OffsiteOutcome | undefined> {
  if (!patched(PATCHES.offsiteCopy)) {
    progress.skip(COPY_OFFSITE_STEP, 'started before off-site copies existed');
    return undefined;
  }
  const configured = await quick.offsiteConfigured.executeWithOptions({ summary: `Is an off-site copy configured for ${deployment}?` }, [
    { deployment },
  ]);
  if (!configured) {
    progress.skip(COPY_OFFSITE_STEP, 'no backup.offsite in day2.yaml');
    return undefined;
  }
  let outcome: OffsiteOutcome;
  progress.mark(COPY_OFFSITE_STEP, 'running');
  try {
    const copied = await long.copyOffsite.executeWithOptions(
      { summary: `Upload ${file} to the bucket (encrypted when a key is set) and verify it` },
      [{ deployment, file }],
    );
    const { deleted } = await quick.applyOffsiteRetention.executeWithOptions(
      { summary: `Keep the newest off-site copies of ${deployment}` },
      [{ deployment, protect: [file] }],
    );
    outcome = { ...copied, deletedRemote: deleted };
    progress.mark(
      COPY_OFFSITE_STEP,
      'done',
      `${copied.key}, ${formatBytes(copied.sizeBytes)}${copied.encrypted ? ', encrypted' : ', NOT encrypted'}${copied.reused ? ' (already there)' : ''}${deleted.length ? `; deleted ${deleted.join(', ')}` : ''}`,
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    outcome = { ok: false, error: deepestMessage(err) };
    progress.mark(COPY_OFFSITE_STEP, 'failed', outcome.error);
  }
  metricMeter
    .createGauge('day2_offsite_copy_success', 'int', '', 'Whether the last backup was copied off-site (1) or not (0)')
    .withTags({ deployment })
    .set(outcome.ok ? 1 : 0);
  return outcome;
}

/** Downloads `remote` (a file name, or `latest`) into the backup directory, verified; the
 * local backup's file name. Bad input (exit 2) when it is missing, foreign or altered. */
export async function fetchOffsiteStep(progress: ProgressTracker, deployment: string, remote: string): Promise<string> {
  if (!remote) throw failure('BadInputError', 'name an off-site copy, or latest');
  try {
    const fetched = await progress.step(
      FETCH_OFFSITE_STEP,
      () =>
        long.fetchOffsiteCopy.executeWithOptions(
          { summary: `Download off-site copy ${remote} of ${deployment}, verify size and SHA-256 (decrypted)` },
          [{ deployment, remote, runId: workflowInfo().runId }],
        ),
      (r) =>
        `${r.file}, ${formatBytes(r.sizeBytes)}${r.reused ? ' (already in the backup directory)' : `, downloaded in ${r.seconds.toFixed(1)} s`}${r.keyringFetched ? '; keyring fetched' : ''}`,
    );
    return fetched.file;
  } catch (err) {
    // A bucket that cannot be reached or refuses us (after the activity's retries) is, like
    // an unreachable database when an operation starts, found before anything is touched.
    if (isCancellation(err) || !failureTypes(err).some((t) => t === 'OffsiteUnavailable' || t === 'OffsiteRefused')) throw err;
    throw failure('BadInputError', `${deepestMessage(err)}; nothing was changed`);
  }
}

function failureTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.type) types.push(e.type);
  return types;
}
