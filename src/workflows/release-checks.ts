// The checks that end an upgrade and a rollback: preflight, then the version the running
// service reports. A failure is an ApplicationFailure naming what was expected.
import { ApplicationFailure } from '@temporalio/workflow';
import type { CheckResult } from '../domain/types';
import { quick } from './activity-proxies';

/** The deployment's preflight checks; fails unless every one passes. */
export async function runPreflight(deployment: string): Promise<CheckResult[]> {
  const results = await quick.runDeploymentChecks.executeWithOptions({ summary: `Preflight checks of ${deployment}` }, [
    { deployment, set: 'preflight' },
  ]);
  const failed = results.filter((c) => !c.ok);
  if (failed.length) {
    throw ApplicationFailure.create({
      type: 'PreflightFailed',
      message: `preflight failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
      nonRetryable: true,
    });
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
    throw ApplicationFailure.create({
      type: 'VersionMismatch',
      message: `the version endpoint reports ${reported}, expected ${expected}`,
      nonRetryable: true,
    });
  }
  return `reports ${reported}`;
}
