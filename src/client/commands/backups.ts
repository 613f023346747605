// `day2 backups`: the deployment's backups, newest first, as the worker's host has them.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { BackupManifest } from '../../domain/types';
import type { CliContext } from '../context';
import { runReadOnly } from '../run-read-only';

export function registerBackupsCommand(program: Command, context: () => CliContext): void {
  program
    .command('backups')
    .description('list the deployment\'s backups, newest first (file, time, size, app version, checksum)')
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 backups --deployment ledger')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const manifests = await runReadOnly<BackupManifest[]>(ctx, { workflowType: 'listBackups', deployment, operation: 'backups', what: `list ${deployment}'s backups`, input: { deployment } });
      for (const m of manifests) {
        const extra = m.preUpgradeVersion ? `  pre-upgrade of ${m.preUpgradeVersion}` : '';
        ctx.say(`${m.file}  ${m.createdAt}  ${String(m.sizeBytes).padStart(10)} B  app ${m.appVersion ?? '?'}  sha256 ${m.sha256.slice(0, 12)}${extra}`);
      }
      if (!manifests.length) ctx.say(`no backups of ${deployment} yet — take one with: day2 backup --deployment ${deployment}`);
      ctx.json(manifests);
    });
}
