// `day2 upgrade` and `day2 rollback`. Versions and file names are checked here first, so a
// typo exits 2 before anything starts. An upgrade that ended rolled back (or failed) exits
// 1 with one line saying what happened and why.
import type { Command } from 'commander';
import { defaultDeployment, deploymentOf } from '../../config';
import { assertBareFileName } from '../../domain/backup-names';
import { BadInputError, EXIT } from '../../domain/errors';
import { parseRestoreTarget } from '../../domain/pgbackrest';
import type { RollbackInput, UpgradeInput, UpgradeResult } from '../../domain/release-types';
import { assertVersion } from '../../domain/version';
import type { CliContext } from '../context';
import type { FollowOutcome } from '../follow';
import { verdictOf } from '../operation-verdict';
import { runOperation, type RunOptions } from '../run-operation';
import { parseCount } from './operations';

/** The runbook's warning, printed whenever --skip-backup is used. */
export const SKIP_BACKUP_WARNING =
  'warning: --skip-backup: no pre-upgrade backup will be taken. This is discouraged in production: migrations are ' +
  'forward-only, so if this upgrade fails day2 cannot roll it back by itself, and a later rollback loses everything ' +
  'since your last backup.';

interface UpgradeOptions extends RunOptions {
  skipBackup?: boolean;
  yes?: boolean;
  force?: boolean;
  gateTimeout?: number;
  askOnFailedPreflight?: boolean;
}

interface RollbackOptions extends RunOptions {
  remote?: string;
  version?: string;
  backup?: string;
  toLsn?: string;
  yes?: boolean;
  gateTimeout?: number;
}

export function registerReleaseCommands(program: Command, context: () => CliContext): void {
  program
    .command('upgrade <version>')
    .description(
      'upgrade to a release: pull it, back up, stop the worker, migrate, write the version, restart, verify; roll back if it fails',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--skip-backup', 'no pre-upgrade backup (discouraged: a failed upgrade then cannot be rolled back automatically)')
    .option('-y, --yes', 'if the upgrade fails, roll back without asking (as upgrade.autoRollback: true does)')
    .option('--force', 'allow a downgrade (usually `day2 rollback` is what you want)')
    .option('--gate-timeout <seconds>', 'roll back a failed upgrade if nobody decides within this time', parseCount)
    .option(
      '--ask-on-failed-preflight',
      'if the preflight before the upgrade fails, wait at the proceed-despite-preflight gate instead of refusing',
    )
    .option('--detach', 'return once started')
    .addHelpText(
      'after',
      '\nExamples:\n  day2 upgrade 1.2.0\n  day2 approve day2-ledger --gate rollback-failed-upgrade --reason "readiness never came back"',
    )
    .action(async (version: string, opts: UpgradeOptions) => {
      assertVersion(version);
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      if (opts.skipBackup && !ctx.options.quiet) process.stderr.write(`${SKIP_BACKUP_WARNING}\n`);
      const backupConfig = deploymentOf(ctx.config, deployment).backup;
      const input: UpgradeInput = {
        deployment,
        version,
        skipBackup: opts.skipBackup,
        force: opts.force,
        yes: opts.yes,
        gateTimeoutSeconds: opts.gateTimeout,
        askOnFailedPreflight: opts.askOnFailedPreflight,
        ...(backupConfig.method === 'pgbackrest' && backupConfig.pgbackrest ? { pgbackrest: { type: backupConfig.pgbackrest.type } } : {}),
      };
      process.exitCode = await runOperation(
        ctx,
        { operation: 'upgrade', workflowType: 'upgrade', deployment, input, targetVersion: version },
        opts,
        judgeUpgrade(deployment),
      );
    });

  program
    .command('rollback')
    .description('restore a backup and the release it was taken under; says what will be lost and asks first')
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--version <version>', "release to run (default: from the backup's manifest, then .pre-upgrade-version)")
    .option('--backup <file>', 'backup to restore (default: the newest that verifies)')
    .option('--remote <name|latest>', 'roll back to an off-site copy: downloaded into the backup directory and verified first')
    .option(
      '--to-lsn <lsn>',
      'backup.method pgbackrest: recover the cluster to this WAL position (default: the recovery point the last upgrade wrote before its migrations)',
    )
    .option('-y, --yes', 'skip the confirmation gate')
    .option('--gate-timeout <seconds>', 'reject the rollback if nobody decides within this time', parseCount)
    .option('--detach', 'return once started')
    .addHelpText('after', '\nExamples:\n  day2 rollback\n  day2 rollback --backup ledger-2026-11-22-020000.dump --version 1.1.0 --yes')
    .action(async (opts: RollbackOptions) => {
      if (opts.version !== undefined) assertVersion(opts.version);
      if (opts.backup !== undefined) assertBareFileName(opts.backup);
      if (opts.backup !== undefined && opts.remote !== undefined) throw new BadInputError('give --backup or --remote, not both');
      if (opts.remote !== undefined && opts.remote !== 'latest') assertBareFileName(opts.remote);
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const input: RollbackInput = {
        deployment,
        version: opts.version,
        yes: opts.yes,
        gateTimeoutSeconds: opts.gateTimeout,
        ...rollbackSource(opts, deploymentOf(ctx.config, deployment).backup.method, deployment),
      };
      process.exitCode = await runOperation(
        ctx,
        { operation: 'rollback', workflowType: 'rollback', deployment, input, targetVersion: opts.version },
        opts,
      );
    });
}

/** What a rollback brings the data back from: a dump (pg_dump), or a point of the WAL (pgBackRest). */
function rollbackSource(
  opts: RollbackOptions,
  method: 'pg_dump' | 'pgbackrest',
  deployment: string,
): Pick<RollbackInput, 'backup' | 'remote' | 'pitr'> {
  if (method !== 'pgbackrest') {
    if (opts.toLsn !== undefined)
      throw new BadInputError('--to-lsn is for backup.method pgbackrest', `${deployment} uses pg_dump: pass --backup FILE`);
    return { backup: opts.backup, remote: opts.remote };
  }
  if (opts.backup !== undefined || opts.remote !== undefined)
    throw new BadInputError(
      `${deployment} uses backup.method pgbackrest: a rollback recovers the cluster to a point, not a dump file`,
      "drop --backup/--remote; pass --to-lsn LSN, or nothing for the last upgrade's recovery point",
    );
  if (opts.toLsn === undefined) return { pitr: {} };
  try {
    const target = parseRestoreTarget({ toLsn: opts.toLsn }, new Date());
    return { pitr: { lsn: target.kind === 'lsn' ? target.lsn : opts.toLsn } };
  } catch (err) {
    throw new BadInputError((err as Error).message);
  }
}

/** An upgrade that completed without upgrading is a failure (exit 1) whose message is the
 * workflow's own account; a rejected gate keeps follow's exit code 5. */
function judgeUpgrade(deployment: string) {
  return (outcome: FollowOutcome) => {
    const result = outcome.result as UpgradeResult | undefined;
    if (!result || result.outcome === 'upgraded') return;
    if (result.outcome !== 'rejected') outcome.exitCode = EXIT.failed;
    Object.assign(outcome, verdictOf('upgrade', deployment, outcome.status, result));
  };
}
