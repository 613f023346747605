// `day2 backups`: the deployment's backups, newest first, as the worker's host has them —
// and, with an off-site bucket configured, which of them have no copy there. `--remote`
// lists the bucket's copies instead (what a fresh host can restore).
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { CliContext } from '../context';
import { runReadOnly } from '../run-read-only';

export function registerBackupsCommand(program: Command, context: () => CliContext): void {
  program
    .command('backups')
    .description("list the deployment's backups, newest first (file, time, size, app version, checksum, off-site copy)")
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--remote', 'list the copies in the off-site bucket (backup.offsite) instead')
    .addHelpText('after', '\nExample:\n  day2 backups --deployment ledger\n  day2 backups --remote')
    .action(async (opts: { deployment?: string; remote?: boolean }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const offsite = ctx.config.deployments[deployment]?.backup.offsite;
      const listRemote = () =>
        runReadOnly(ctx, {
          workflowType: 'listOffsiteCopies',
          deployment,
          operation: 'offsite-copies',
          what: `list ${deployment}'s off-site copies`,
          input: { deployment },
        });

      if (opts.remote) {
        const copies = await listRemote();
        for (const c of copies) {
          const state = c.verified ? 'verified' : `NOT VERIFIED: ${c.problem ?? 'unknown'}`;
          ctx.say(
            `${c.file}  ${c.createdAt}  ${String(c.sizeBytes).padStart(10)} B  app ${c.appVersion ?? '?'}  ${c.encrypted ? `encrypted (key ${c.keyId})` : 'NOT encrypted'}  ${state}`,
          );
        }
        if (!copies.length) ctx.say(`no off-site copies of ${deployment} yet — 'day2 backup' makes one when backup.offsite is set`);
        ctx.json(copies);
        return;
      }

      const manifests = await runReadOnly(ctx, {
        workflowType: 'listBackups',
        deployment,
        operation: 'backups',
        what: `list ${deployment}'s backups`,
        input: { deployment },
      });
      // With a bucket configured, say of each backup whether it has a copy there.
      let remote: Set<string> | undefined;
      let remoteProblem: string | undefined;
      if (offsite) {
        try {
          remote = new Set((await listRemote()).filter((c) => c.verified).map((c) => c.file));
        } catch (err) {
          remoteProblem = (err as Error).message;
        }
      }
      for (const m of manifests) {
        const extra =
          (m.format === 'directory' ? '  directory format' : '') + (m.preUpgradeVersion ? `  pre-upgrade of ${m.preUpgradeVersion}` : '');
        const copy = remote ? (remote.has(m.file) ? '  off-site ✓' : '  NO off-site copy') : '';
        ctx.say(
          `${m.file}  ${m.createdAt}  ${String(m.sizeBytes).padStart(10)} B  app ${m.appVersion ?? '?'}  sha256 ${m.sha256.slice(0, 12)}${copy}${extra}`,
        );
      }
      if (remoteProblem) ctx.warn(`off-site copies unknown: ${remoteProblem}`);
      if (!manifests.length) ctx.say(`no backups of ${deployment} yet — take one with: day2 backup --deployment ${deployment}`);
      ctx.json(remote ? manifests.map((m) => ({ ...m, offsite: remote.has(m.file) })) : manifests);
    });
}
