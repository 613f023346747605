// `day2 backup` and `day2 restore`: start the workflow, then follow it.
import type { Command } from 'commander';
import { assertBareFileName } from '../../domain/backup-names';
import { BadInputError } from '../../domain/errors';
import type { BackupInput, RestoreInput, RestoreRelease } from '../../domain/types';
import { parseRestoreTarget, type PgbackrestBackupInput, type PgbackrestBackupType, type PitrRestoreInput } from '../../domain/pgbackrest';
import { defaultDeployment, deploymentOf } from '../../config';
import type { CliContext } from '../context';
import { runOperation, type RunOptions } from '../run-operation';

export function registerOperationCommands(program: Command, context: () => CliContext): void {
  program
    .command('backup')
    .description(
      "pg_dump the deployment's database (-Fc, or -Fd -j with backup.format directory), verify it, write a manifest, apply retention",
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--keep <n>', 'backups to keep (default: backup.keep in day2.yaml)', parseCount)
    .option(
      '--wait-if-busy <seconds>',
      'if another operation holds the deployment (an upgrade, say), wait up to this long for it to finish instead of refusing (exit 3)',
      parseCount,
    )
    .option('--detach', 'return once started')
    .addHelpText(
      'after',
      '\nExample:\n  day2 backup --deployment ledger --keep 7\n  day2 backup --wait-if-busy 3600    # from cron: never collides with an upgrade',
    )
    .option('--type <full|diff|incr>', 'backup.method pgbackrest: the kind of backup (default: backup.pgbackrest.type)', parseBackupType)
    .option('-y, --yes', 'backup.method pgbackrest: approve the one restart turning archiving on needs (restart-for-archiving gate)')
    .action(async (opts: RunOptions & { keep?: number; waitIfBusy?: number; type?: PgbackrestBackupType; yes?: boolean }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const pgbackrest = deploymentOf(ctx.config, deployment).backup.pgbackrest;
      if (deploymentOf(ctx.config, deployment).backup.method === 'pgbackrest' && pgbackrest) {
        const input: PgbackrestBackupInput = { deployment, type: opts.type ?? pgbackrest.type, yes: opts.yes };
        process.exitCode = await runOperation(
          ctx,
          { operation: 'backup', workflowType: 'pgbackrestBackup', deployment, input, waitIfBusySeconds: opts.waitIfBusy },
          opts,
        );
        return;
      }
      if (opts.type !== undefined) throw new BadInputError('--type is for backup.method pgbackrest', `${deployment} uses pg_dump`);
      const input: BackupInput = { deployment, keep: opts.keep };
      process.exitCode = await runOperation(
        ctx,
        { operation: 'backup', workflowType: 'backup', deployment, input, waitIfBusySeconds: opts.waitIfBusy },
        opts,
      );
    });

  program
    .command('restore [file]')
    .description('restore a backup: verify it, ask for confirmation, restore beside the live database, swap, verify')
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option(
      '--remote <name|latest>',
      'restore an off-site copy instead: downloaded into the backup directory and verified first (`day2 backups --remote` lists them)',
    )
    .option('-y, --yes', 'skip the confirmation gate')
    .option('--gate-timeout <seconds>', 'reject the restore if nobody decides within this time', parseCount)
    .option('--detach', 'return once started')
    .addHelpText(
      'after',
      '\nExample:\n  day2 restore ledger-2026-11-22-020000.dump\n  day2 restore --to-time 2026-12-01T10:00:00Z    # backup.method pgbackrest: point-in-time recovery\n  day2 approve day2-ledger --gate confirm-restore --reason "incident 42"\n  day2 restore --remote latest --yes    # a fresh host: the newest off-site copy',
    )
    .option(
      '--to-time <iso>',
      'backup.method pgbackrest: point-in-time recovery of the whole cluster to this time (e.g. 2026-12-01T10:00:00Z)',
    )
    .option('--to-lsn <lsn>', 'backup.method pgbackrest: recover to this WAL position (e.g. 0/3000060)')
    .option('--latest', 'backup.method pgbackrest: recover everything archived until now')
    .option(
      '--release <backup|running>',
      "a backup taken under another release than the one running: 'backup' switches to the backup's release with its data (as day2 rollback does), 'running' keeps the running release and runs its migrations forward on the restored data",
      parseRestoreRelease,
    )
    .action(
      async (
        file: string | undefined,
        opts: RunOptions & {
          yes?: boolean;
          gateTimeout?: number;
          remote?: string;
          toTime?: string;
          toLsn?: string;
          latest?: boolean;
          release?: RestoreRelease;
        },
      ) => {
        const ctx = context();
        const deployment = defaultDeployment(ctx.config, opts.deployment);
        if (opts.toTime !== undefined || opts.toLsn !== undefined || opts.latest) {
          if (file !== undefined || opts.remote !== undefined)
            throw new BadInputError('give a backup file, --remote, or a point in time (--to-time, --to-lsn, --latest): one of them');
          if (deploymentOf(ctx.config, deployment).backup.method !== 'pgbackrest') {
            throw new BadInputError(
              `${deployment} uses backup.method pg_dump: a dump restores to the moment it was taken`,
              'point-in-time recovery needs backup.method pgbackrest (README: Physical backups and point-in-time recovery)',
            );
          }
          let target;
          try {
            target = parseRestoreTarget(opts, new Date());
          } catch (err) {
            throw new BadInputError((err as Error).message, 'nothing was changed');
          }
          const input: PitrRestoreInput = { deployment, target, yes: opts.yes, gateTimeoutSeconds: opts.gateTimeout };
          process.exitCode = await runOperation(ctx, { operation: 'restore', workflowType: 'pitrRestore', deployment, input }, opts);
          return;
        }
        const source = backupSource(file, opts.remote);
        const input: RestoreInput = { deployment, ...source, yes: opts.yes, gateTimeoutSeconds: opts.gateTimeout, release: opts.release };
        process.exitCode = await runOperation(ctx, { operation: 'restore', workflowType: 'restore', deployment, input }, opts);
      },
    );
}

/** A local backup's name, or an off-site copy's (`--remote NAME|latest`): exactly one. */
function backupSource(file: string | undefined, remote: string | undefined): { file?: string; remote?: string } {
  if (file !== undefined && remote !== undefined) throw new BadInputError('give a backup file or --remote, not both');
  if (remote !== undefined) return { remote: remote === 'latest' ? remote : assertBareFileName(remote) };
  if (file === undefined)
    throw new BadInputError('name the backup to restore', "'day2 backups' lists them; or --remote latest for the newest off-site copy");
  return { file: assertBareFileName(file) };
}

function parseBackupType(value: string): PgbackrestBackupType {
  if (value !== 'full' && value !== 'diff' && value !== 'incr')
    throw new BadInputError(`'${value}' is not a backup type (full, diff or incr)`);
  return value;
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new BadInputError(`'${value}' is not a positive whole number`);
  return n;
}

function parseRestoreRelease(value: string): RestoreRelease {
  if (value === 'backup' || value === 'running') return value;
  throw new BadInputError(`--release ${value}: expected backup (the backup's own release) or running (the release running now)`);
}
