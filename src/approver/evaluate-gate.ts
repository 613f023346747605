// Runs a gate's checks the way its policy asks and turns them into a verdict. Stability:
// the checks must pass `stableRuns` times in a row, `stableIntervalSeconds` apart, so a
// service that answers once while still settling is not approved on that one answer.
import { runChecks, type CheckContext } from '../checks';
import { sqlCheckUrlOf } from '../activities/shared/pg-connection';
import type { DeploymentConfig, GatePolicy } from '../domain/config-schema';
import type { CheckResult } from '../domain/types';

export type Verdict =
  | { action: 'approve'; reason: string; evidence: CheckResult[] }
  | { action: 'reject'; reason: string; evidence: CheckResult[] }
  /** Left to a person: manual policy, nothing to check, or failing checks under auto-approve-only. */
  | { action: 'leave'; reason: string; evidence: CheckResult[] }
  /** The gate stopped waiting while the checks ran (a person decided, or it timed out). */
  | { action: 'gone'; reason: string; evidence: CheckResult[] };

export interface EvaluateOptions {
  /** Asked between runs: false ends the evaluation without a verdict on the gate. */
  stillWaiting: () => Promise<boolean>;
  /** Called after each run (progress for the log). */
  onRun?: (run: number, of: number, results: CheckResult[]) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function evaluateGate(policy: GatePolicy | undefined, checkContext: CheckContext, opts: EvaluateOptions): Promise<Verdict> {
  if (!policy || policy.policy === 'manual') {
    return {
      action: 'leave',
      reason: policy ? 'policy manual: a person decides' : 'no policy in day2.yaml: a person decides',
      evidence: [],
    };
  }
  if (policy.checks.length === 0) {
    // Approving on zero checks would approve on nothing at all.
    return { action: 'leave', reason: `policy ${policy.policy} but no checks configured: a person decides`, evidence: [] };
  }
  const sleep = opts.sleep ?? defaultSleep;
  const started = Date.now();
  let results: CheckResult[] = [];
  for (let run = 1; run <= policy.stableRuns; run++) {
    if (run > 1) {
      await sleep(policy.stableIntervalSeconds * 1000);
      if (!(await opts.stillWaiting())) return { action: 'gone', reason: 'the gate was decided while its checks ran', evidence: results };
    }
    results = await runChecks(policy.checks, checkContext);
    opts.onRun?.(run, policy.stableRuns, results);
    const failed = results.filter((r) => !r.ok);
    if (failed.length) return onFailure(policy, failed, results, run);
  }
  const window = ((Date.now() - started) / 1000).toFixed(1);
  const stable: CheckResult[] =
    policy.stableRuns > 1 ? [{ name: 'stability', ok: true, detail: `passed ${policy.stableRuns} runs in a row over ${window} s` }] : [];
  return {
    action: 'approve',
    reason: `${results.length} check(s) passed${policy.stableRuns > 1 ? ` ${policy.stableRuns} times in a row over ${window} s` : ''} (policy ${policy.policy})`,
    evidence: [...results, ...stable],
  };
}

function onFailure(policy: GatePolicy, failed: CheckResult[], results: CheckResult[], run: number): Verdict {
  const what = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
  const when = policy.stableRuns > 1 ? ` (run ${run} of ${policy.stableRuns})` : '';
  if (policy.policy === 'auto') return { action: 'reject', reason: `check failed${when}: ${what} (policy auto)`, evidence: results };
  return { action: 'leave', reason: `check failing${when}: ${what}; policy auto-approve-only leaves it to a person`, evidence: results };
}

/** What sql, command and http checks need: the database URL (the env file's, or inside
 * compose the database container's), the runtime's cwd, the env file (for http checks'
 * header values). */
export async function checkContextFor(d: DeploymentConfig): Promise<CheckContext> {
  const sqlChecks = Object.values(d.gates).some((g) => g.checks.some((c) => c.kind === 'sql'));
  // Unfound: the sql checks fail and say the URL is missing; the others still run.
  const databaseUrl = sqlChecks ? await sqlCheckUrlOf(d, () => {}) : undefined;
  return { databaseUrl, databaseUrlVar: d.databaseUrlVar, cwd: d.runtime.cwd, envFile: d.envFile };
}
