// The checks that end an upgrade and a rollback: preflight, then the version the running
// service reports. A failure is an ApplicationFailure naming what was expected.
import { failure } from '../domain/failures';
import type { CheckResult } from '../domain/types';
import { long, quick } from './activity-proxies';

/** The deployment's preflight checks (built-in and configured), failed or not. */
export function preflightChecks(deployment: string, summary = `Preflight checks of ${deployment}`): Promise<CheckResult[]> {
  return long.runDeploymentChecks.executeWithOptions({ summary }, [{ deployment, set: 'preflight' }]);
}

/** `name: detail; …` of the failed checks, for a refusal or a gate's question. */
export function failedChecksText(results: CheckResult[]): string {
  return results
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`)
    .join('; ');
}

/** `; preflight failed (…): …` for an outcome line, or nothing when every check passed: a
 * restore names what to fix before the next operation but stays a restore. */
export function preflightNote(results: CheckResult[]): string {
  return results.some((c) => !c.ok)
    ? `; preflight failed (fix before the next operation; day2 preflight): ${failedChecksText(results)}`
    : '';
}

/** The deployment's preflight checks; fails unless every one passes. */
export async function runPreflight(deployment: string): Promise<CheckResult[]> {
  const results = await preflightChecks(deployment);
  const failed = results.filter((c) => !c.ok);
  if (failed.length) {
    throw failure('PreflightFailed', `preflight failed: ${failedChecksText(results)}`);
  }
  return results;
}

/** The version endpoint must report `expected`; skipped when none is configured. */
export async function verifyServiceVersion(deployment: string, expected: string): Promise<string> {
  const reported = await quick.readServiceVersion.executeWithOptions({ summary: `Ask ${deployment}'s version endpoint for ${expected}` }, [
    { deployment },
  ]);
  if (reported === null) return 'no version endpoint configured (health.version): not checked';
  if (reported !== expected) {
    throw failure('VersionMismatch', `the version endpoint reports ${reported}, expected ${expected}`);
  }
  return `reports ${reported}`;
}
