// The checks activity: a deployment's verify or preflight checks, or a gate's, run with
// what they need from the deployment (its database URL, runtime cwd, env file).
import type { CheckResult } from '../../domain/types';
import { runChecks } from '../../checks';
import type { ActivityDeps } from '../shared/deps';
import { beat } from '../shared/heartbeat';
import { builtinPreflightChecks } from './preflight';
import { sqlCheckUrlOf } from '../shared/pg-connection';

export type CheckSetInput = { deployment: string; set: 'verify' | 'preflight' } | { deployment: string; gate: string };

export function checksActivities(deps: ActivityDeps) {
  return {
    /** The deployment's verify or preflight checks, or a gate's checks (none when the gate
     * has no policy configured). Results go to history: details are secret-free. */
    async runDeploymentChecks(input: CheckSetInput): Promise<CheckResult[]> {
      const d = deps.resolve(input.deployment);
      const checks = 'gate' in input ? (d.gates[input.gate]?.checks ?? []) : d[input.set];
      // Preflight starts with the checks every deployment needs, then the configured ones.
      const builtin = 'set' in input && input.set === 'preflight' ? await builtinPreflightChecks(d, input.deployment) : [];
      if (checks.length === 0 && builtin.length === 0) return [];
      // Only sql checks need the URL; an unreadable env file fails those checks, not all.
      const databaseUrl = checks.some((c) => c.kind === 'sql')
        ? await sqlCheckUrlOf(d, (problem) =>
            deps.logger.warn({ deployment: input.deployment, problem }, 'sql checks have no database URL'),
          )
        : undefined;
      const results = [
        ...builtin,
        ...(await runChecks(checks, {
          databaseUrl,
          databaseUrlVar: d.databaseUrlVar,
          cwd: d.runtime.cwd,
          envFile: d.envFile,
          heartbeat: beat,
        })),
      ];
      const failed = results.filter((r) => !r.ok).map((r) => r.name);
      deps.logger.info({ deployment: input.deployment, checks: results.length, failed }, 'checks run');
      return results;
    },
  };
}
