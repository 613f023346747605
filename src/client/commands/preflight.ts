// `day2 preflight`: is the deployment fit for an operation? The built-in checks and the
// configured ones, run by the worker (where the env file, database and backups are).
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import { EXIT } from '../../domain/errors';
import type { CliContext } from '../context';
import { renderCheck } from '../render-progress';
import { runReadOnly } from '../run-read-only';

export function registerPreflightCommand(program: Command, context: () => CliContext): void {
  program
    .command('preflight')
    .description(
      'check the deployment is fit for an operation: env file against .env.example, version file, database, pg_dump, backup space, configured checks',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', "\nExample:\n  day2 preflight --deployment ledger\n  day2 --json preflight | jq '.checks[] | select(.ok | not)'")
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const result = await runReadOnly(ctx, {
        workflowType: 'preflight',
        deployment,
        operation: 'preflight',
        what: `run ${deployment}'s preflight checks`,
        input: { deployment },
        announce: true,
        // Configured command checks may take up to a minute each.
        timeout: '10 minutes',
      });
      for (const c of result.checks) ctx.say(renderCheck(c));
      const failed = result.checks.filter((c) => !c.ok).length;
      ctx.say(
        failed
          ? `preflight of ${deployment} failed: ${failed} of ${result.checks.length} checks`
          : `preflight of ${deployment} passed: ${result.checks.length} checks`,
      );
      ctx.json(result);
      process.exitCode = result.ok ? 0 : EXIT.failed;
    });
}
