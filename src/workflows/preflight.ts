// preflight.sh as a read-only workflow: the built-in checks (env file, version file,
// database, pg_dump, backup directory) and the deployment's configured ones. It runs under
// its own id, beside any operation, and each check shows as a line of the Web UI checklist.
import type { PreflightResult } from '../domain/types';
import { long } from './activity-proxies';
import { beginOperation } from './operation';

const RUN = 'Run preflight checks';

export async function preflight(input: { deployment: string }): Promise<PreflightResult> {
  const { deployment } = input;
  const { progress } = beginOperation('preflight', deployment, [RUN]);
  const checks = await progress.step(RUN, () =>
    long.runDeploymentChecks.executeWithOptions({ summary: `Preflight checks of ${deployment}` }, [{ deployment, set: 'preflight' }]),
  );
  const failed = progress.showChecks(RUN, checks);
  progress.finish(failed.length ? `failed: ${failed.map((c) => c.name).join(', ')}` : `all ${checks.length} checks passed`);
  return { ok: failed.length === 0, checks };
}
