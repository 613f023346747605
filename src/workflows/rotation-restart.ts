// The restart every rotation step ends with: the service only reads its secrets at start,
// so a written secret takes effect here. Stop and start are idempotent activities, so a
// worker lost in the middle of a restart resumes it; readiness and the deployment's
// `verify` checks say whether the service works with what was written.
import { isCancellation } from '@temporalio/workflow';
import { failure } from '../domain/failures';
import type { CheckResult } from '../domain/types';
import { long, quick } from './activity-proxies';
import { uninterruptible } from './cancellation';
import { errorMessage } from './progress';

export interface RestartReport {
  readyAfterMs: number;
  checks: CheckResult[];
}

/** `why` ends each activity summary, so the Web UI's event list says which restart it is.
 * Stop, start and readiness run to their end even if the workflow is cancelled meanwhile:
 * a cancellation must never leave the service stopped. */
export async function restartAndVerify(deployment: string, why: string): Promise<RestartReport> {
  const { readyAfterMs } = await uninterruptible(async () => {
    await quick.stopServices.executeWithOptions({ summary: `Stop ${deployment}'s services (${why})` }, [{ deployment, scope: 'all' }]);
    await quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services (${why})` }, [{ deployment }]);
    return long.waitForReady.executeWithOptions({ summary: `Wait for ${deployment} to report ready (${why})` }, [
      { deployment, leftState: `The services were restarted (${why}) with the secrets as written.` },
    ]);
  });
  const checks = await long.runDeploymentChecks.executeWithOptions({ summary: `Run ${deployment}'s verify checks (${why})` }, [
    { deployment, set: 'verify' },
  ]);
  return { readyAfterMs, checks };
}

export function describeRestart(r: RestartReport): string {
  const checks = r.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`).join(', ');
  return `ready after ${(r.readyAfterMs / 1000).toFixed(1)} s${checks ? `; ${checks}` : ''}`;
}

/** Throws a VerificationFailed (non-retryable) naming each failed check, with `then` saying
 * where that leaves the deployment and what to do. */
function assertChecksPassed(r: RestartReport, then: string): void {
  const failed = r.checks.filter((c) => !c.ok);
  if (!failed.length) return;
  throw failure('VerificationFailed', `verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}. ${then}`);
}

/** Restart, readiness and verify checks; any failure is a VerificationFailed whose message
 * ends with `then`. */
export async function verifiedRestart(deployment: string, why: string, then: string): Promise<RestartReport> {
  let report: RestartReport;
  try {
    report = await restartAndVerify(deployment, why);
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw failure('VerificationFailed', `${errorMessage(err)}. ${then}`);
  }
  assertChecksPassed(report, then);
  return report;
}
