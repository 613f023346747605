// support-bundle.sh as a read-only workflow: one activity gathers every section into a
// tarball on the worker's host; each section is a line of the Web UI checklist. It runs
// under its own id, beside any operation: a bundle is most wanted while something is stuck.
import { workflowInfo } from '@temporalio/workflow';
import { supportBundleFileName } from '../domain/support-bundle-names';
import type { SupportBundleResult } from '../domain/types';
import { long } from './activity-proxies';
import { beginOperation } from './operation';

const COLLECT = 'Collect the support bundle';

export async function supportBundle(input: { deployment: string }): Promise<SupportBundleResult> {
  const { deployment } = input;
  const { progress } = beginOperation('support-bundle', deployment, [COLLECT]);
  const { workflowId, runId, startTime } = workflowInfo();
  const fileName = supportBundleFileName(deployment, startTime);
  const result = await progress.step(COLLECT, () =>
    long.createSupportBundle.executeWithOptions({ summary: `Collect ${deployment}'s support bundle (secrets redacted) into ${fileName}` }, [
      { deployment, fileName, workflowId, runId, createdAt: startTime.toISOString() },
    ]),
  );
  const missing = progress.showChecks(COLLECT, result.sections);
  progress.finish(
    `${result.file}: ${result.bytes} bytes${missing.length ? `; not collected: ${missing.map((s) => s.name).join(', ')}` : ''}`,
  );
  return result;
}
