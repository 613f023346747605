// `day2 drill`: does the backup actually restore? The worker restores it into a scratch
// PostgreSQL cluster of its own and checks it there; production is not touched.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import { assertBareFileName } from '../../domain/backup-names';
import { BadInputError, EXIT } from '../../domain/errors';
import type { DrillInput } from '../../domain/types';
import { parseRestoreTarget, type PgbackrestDrillInput } from '../../domain/pgbackrest';
import { deploymentOf } from '../../config';
import type { CliContext } from '../context';
import { renderCheck } from '../render-progress';
import { runReadOnly } from '../run-read-only';

export function registerDrillCommand(program: Command, context: () => CliContext): void {
  program
    .command('drill')
    .description(
      'DR drill: restore a backup (default: the newest) into a scratch PostgreSQL cluster and check it there; production is not touched',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--backup <file>', 'the backup to drill (a file name from day2 backups)')
    .option('--remote <name|latest>', 'drill an off-site copy (the monthly test of the runbooks): downloaded and verified first')
    .addHelpText(
      'after',
      '\nExample:\n  day2 drill --deployment ledger\n  day2 drill --backup ledger-2026-11-22-020000.dump    # monthly, from cron\n  day2 drill --remote latest                            # the newest off-site copy',
    )
    .option('--to-time <iso>', 'backup.method pgbackrest: drill a point-in-time recovery to this time (default: everything archived)')
    .option('--to-lsn <lsn>', 'backup.method pgbackrest: drill a recovery to this WAL position')
    .action(async (opts: { deployment?: string; backup?: string; remote?: string; toTime?: string; toLsn?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      if (deploymentOf(ctx.config, deployment).backup.method === 'pgbackrest') {
        let target;
        try {
          target = parseRestoreTarget(
            { toTime: opts.toTime, toLsn: opts.toLsn, latest: opts.toTime === undefined && opts.toLsn === undefined },
            new Date(),
          );
        } catch (err) {
          throw new BadInputError((err as Error).message);
        }
        const input: PgbackrestDrillInput = { deployment, target };
        const result = await runReadOnly(ctx, {
          workflowType: 'pgbackrestDrill',
          deployment,
          operation: 'drill',
          what: `drill ${deployment}'s pgBackRest backups`,
          input,
          announce: true,
          timeout: '6 hours',
        });
        for (const c of result.checks) ctx.say(renderCheck(c));
        ctx.say(
          result.ok ? `drill passed: ${result.file} restores (${result.restoreSeconds.toFixed(1)} s)` : `drill FAILED: ${result.file}`,
        );
        ctx.json(result);
        process.exitCode = result.ok ? 0 : EXIT.failed;
        return;
      }
      if (opts.toTime !== undefined || opts.toLsn !== undefined)
        throw new BadInputError('--to-time and --to-lsn are for backup.method pgbackrest', `${deployment} uses pg_dump`);
      if (opts.backup !== undefined && opts.remote !== undefined) throw new BadInputError('give --backup or --remote, not both');
      const remote = opts.remote === undefined || opts.remote === 'latest' ? opts.remote : assertBareFileName(opts.remote);
      const input: DrillInput = {
        deployment,
        file: opts.backup === undefined ? undefined : assertBareFileName(opts.backup),
        ...(remote ? { remote } : {}),
      };
      const result = await runReadOnly(ctx, {
        workflowType: 'drill',
        deployment,
        operation: 'drill',
        what: `drill ${deployment}'s backup`,
        input,
        announce: true,
        timeout: '6 hours',
      });
      for (const c of result.checks) ctx.say(renderCheck(c));
      ctx.say(
        result.ok
          ? `drill passed: ${result.file} restores (pg_restore ${result.restoreSeconds.toFixed(1)} s)`
          : `drill FAILED: ${result.file}`,
      );
      ctx.json(result);
      process.exitCode = result.ok ? 0 : EXIT.failed;
    });
}
