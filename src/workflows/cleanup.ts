// `day2 cleanup`: restores keep the data they replaced (`<db>_pre_restore_<stamp>`, or a
// safety dump) and nothing removes it by itself. Listing is read-only; dropping is a
// mutating operation under the deployment's single id (it must not race a restore that is
// keeping a copy right now), and drops exactly the copies the operator confirmed.
import { formatBytes } from '../domain/human-bytes';
import type { CleanupResult, KeptCopies } from '../domain/types';
import { long, quick } from './activity-proxies';
import { beginOperation } from './operation';

const DROP = 'Drop kept copies of replaced data';

export async function listKeptCopies(input: { deployment: string }): Promise<KeptCopies> {
  return quick.countKeptCopies.executeWithOptions({ summary: `List the copies of replaced data kept for ${input.deployment}` }, [input]);
}

export async function cleanup(input: { deployment: string; names: string[] }): Promise<CleanupResult> {
  const { deployment, names } = input;
  const { progress } = beginOperation('cleanup', deployment, [DROP]);
  const result = await progress.step(DROP, () =>
    long.dropKeptCopies.executeWithOptions(
      { summary: `Drop ${names.length} kept ${names.length === 1 ? 'copy' : 'copies'}: ${names.join(', ')}` },
      [{ deployment, names }],
    ),
  );
  const freed = result.dropped.reduce((sum, c) => sum + c.bytes, 0);
  const gone = result.alreadyGone.length ? `; already gone: ${result.alreadyGone.join(', ')}` : '';
  progress.finish(
    `dropped ${result.dropped.length} kept ${result.dropped.length === 1 ? 'copy' : 'copies'} (${formatBytes(freed)})${gone}`,
  );
  return result;
}
