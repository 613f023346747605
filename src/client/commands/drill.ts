// `day2 drill`: does the backup actually restore? The worker restores it into a scratch
// PostgreSQL cluster of its own and checks it there; production is not touched.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import { assertBareFileName } from '../../domain/backup-names';
import { BadInputError, EXIT } from '../../domain/errors';
import type { DrillInput, DrillResult } from '../../domain/types';
import type { CliContext } from '../context';
import { renderCheck } from '../render-progress';
import { runReadOnly } from '../run-read-only';

export function registerDrillCommand(program: Command, context: () => CliContext): void {
  program
    .command('drill')
    .description('DR drill: restore a backup (default: the newest) into a scratch PostgreSQL cluster and check it there; production is not touched')
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--backup <file>', 'the backup to drill (a file name from day2 backups)')
    .option('--remote <name|latest>', 'drill an off-site copy (the monthly test of the runbooks): downloaded and verified first')
    .addHelpText('after', '\nExample:\n  day2 drill --deployment ledger\n  day2 drill --backup ledger-2026-11-22-020000.dump    # monthly, from cron\n  day2 drill --remote latest                            # the newest off-site copy')
    .action(async (opts: { deployment?: string; backup?: string; remote?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      if (opts.backup !== undefined && opts.remote !== undefined) throw new BadInputError('give --backup or --remote, not both');
      const remote = opts.remote === undefined || opts.remote === 'latest' ? opts.remote : assertBareFileName(opts.remote);
      const input: DrillInput = { deployment, file: opts.backup === undefined ? undefined : assertBareFileName(opts.backup), ...(remote ? { remote } : {}) };
      const result = await runReadOnly<DrillResult>(ctx, {
        workflowType: 'drill',
        deployment,
        operation: 'drill',
        what: `drill ${deployment}'s backup`,
        input,
        announce: true,
        timeout: '6 hours',
      });
      for (const c of result.checks) ctx.say(renderCheck(c));
      ctx.say(result.ok ? `drill passed: ${result.file} restores (pg_restore ${result.restoreSeconds.toFixed(1)} s)` : `drill FAILED: ${result.file}`);
      ctx.json(result);
      process.exitCode = result.ok ? 0 : EXIT.failed;
    });
}
