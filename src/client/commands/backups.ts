// `day2 backups`: the deployment's backups, newest first, as the worker's host has them.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { BackupManifest } from '../../domain/types';
import { readOnlyWorkflowId } from '../../domain/workflow-ids';
import type { CliContext } from '../context';

export function registerBackupsCommand(program: Command, context: () => CliContext): void {
  program
    .command('backups')
    .description('list the deployment\'s backups, newest first (file, time, size, app version, checksum)')
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 backups --deployment ledger')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const client = await ctx.client();
      const manifests = await client.workflow.execute<(input: { deployment: string }) => Promise<BackupManifest[]>>('listBackups', {
        workflowId: readOnlyWorkflowId(deployment, 'backups', new Date()),
        taskQueue: ctx.config.temporal.taskQueue,
        args: [{ deployment }],
        // A read must not hang when no worker serves the task queue: say so instead.
        workflowExecutionTimeout: '1 minute',
      }).catch((err: Error) => {
        throw new Error(`could not list ${deployment}'s backups: ${err.message} — is a day2 worker running on task queue '${ctx.config.temporal.taskQueue}'?`);
      });
      for (const m of manifests) {
        const extra = m.preUpgradeVersion ? `  pre-upgrade of ${m.preUpgradeVersion}` : '';
        ctx.say(`${m.file}  ${m.createdAt}  ${String(m.sizeBytes).padStart(10)} B  app ${m.appVersion ?? '?'}  sha256 ${m.sha256.slice(0, 12)}${extra}`);
      }
      if (!manifests.length) ctx.say(`no backups of ${deployment} yet — take one with: day2 backup --deployment ${deployment}`);
      ctx.json(manifests);
    });
}
