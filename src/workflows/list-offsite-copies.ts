// Lists a deployment's copies in its off-site bucket, as the worker sees them (it holds the
// credentials). Read-only, so it runs beside any operation.
import type { RemoteCopy } from '../domain/offsite';
import { quick } from './activity-proxies';

export async function listOffsiteCopies(input: { deployment: string }): Promise<RemoteCopy[]> {
  return quick.listOffsiteCopies.executeWithOptions({ summary: `List ${input.deployment}'s off-site copies (manifests in the bucket)` }, [
    input,
  ]);
}
