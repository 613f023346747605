// `day2 support-bundle`: what support-bundle.sh collected, made by the worker (where the env
// file, logs and database are) into a tarball with every secret redacted.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import { formatBytes } from '../../domain/human-bytes';
import type { CliContext } from '../context';
import { renderCheck } from '../render-progress';
import { runReadOnly } from '../run-read-only';

export function registerSupportBundleCommand(program: Command, context: () => CliContext): void {
  program
    .command('support-bundle')
    .description(
      'collect a support bundle: redacted env file, service state and logs, database schema and row counts, preflight checks, health answers, system info',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 support-bundle --deployment ledger\n  tar -tzf "$(day2 --json support-bundle | jq -r .path)"')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const result = await runReadOnly(ctx, {
        workflowType: 'supportBundle',
        deployment,
        operation: 'support-bundle',
        what: `collect ${deployment}'s support bundle`,
        input: { deployment },
        announce: true,
        timeout: '30 minutes',
      });
      for (const section of result.sections) ctx.say(renderCheck(section));
      for (const o of result.omitted) ctx.say(`  left out: ${o.what} (${o.why})`);
      ctx.say(`support bundle: ${result.path} (${formatBytes(result.bytes)}, sha256 ${result.sha256.slice(0, 12)}…)`);
      ctx.json(result);
    });
}
