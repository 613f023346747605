// `day2 cleanup`: the copies of replaced data restores have kept (databases renamed aside,
// safety dumps), with their age and size; drops the ones the operator confirms — those
// older than --older-than, or all — after a y/N on a terminal, or with --yes.
import type { Command } from 'commander';
import { defaultDeployment } from '../../config';
import { BadInputError } from '../../domain/errors';
import { formatBytes } from '../../domain/human-bytes';
import { humanAge, parseAge } from '../../domain/kept-copy-names';
import type { KeptCopy } from '../../domain/types';
import { canAsk, confirmed } from '../confirm';
import type { CliContext } from '../context';
import { runReadOnly } from '../run-read-only';
import { runOperation } from '../run-operation';

interface CleanupOptions {
  deployment?: string;
  olderThan?: number;
  yes?: boolean;
  dryRun?: boolean;
}

function parseOlderThan(value: string): number {
  const seconds = parseAge(value);
  if (seconds === undefined) throw new BadInputError(`'${value}' is not an age`, 'give a number and a unit: 90m, 36h, 14d, 2w');
  return seconds;
}

const ageOf = (c: KeptCopy, now: number) => (c.keptAt ? (now - Date.parse(c.keptAt)) / 1000 : undefined);

export function registerCleanupCommand(program: Command, context: () => CliContext): void {
  program
    .command('cleanup')
    .description(
      'list the copies of replaced data restores kept (<db>_pre_restore_<stamp> databases, pre-restore safety dumps) with age and size, and drop the ones you confirm',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--older-than <age>', 'only copies kept longer ago than this (90m, 36h, 14d, 2w)', parseOlderThan)
    .option('-y, --yes', 'drop without asking')
    .option('--dry-run', 'list what would be dropped, drop nothing')
    .addHelpText(
      'after',
      '\nExample:\n  day2 cleanup                       # lists them, asks before dropping\n  day2 cleanup --older-than 14d --yes   # from cron',
    )
    .action(async (opts: CleanupOptions) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const kept = await runReadOnly(ctx, {
        workflowType: 'listKeptCopies',
        deployment,
        operation: 'kept-copies',
        what: `list ${deployment}'s kept copies`,
        input: { deployment },
      });
      const now = Date.now();
      // A copy whose age cannot be read from its name is never dropped by age.
      const chosen = kept.copies.filter((c) => opts.olderThan === undefined || (ageOf(c, now) ?? -1) > opts.olderThan);
      for (const c of kept.copies) {
        const age = ageOf(c, now);
        const mark = chosen.includes(c) ? 'drop' : 'keep';
        ctx.say(`${mark}  ${c.name}  ${c.kind}  ${age === undefined ? 'age unknown' : `${humanAge(age)} old`}  ${formatBytes(c.bytes)}`);
      }
      const total = formatBytes(chosen.reduce((sum, c) => sum + c.bytes, 0));
      if (!chosen.length || opts.dryRun) {
        ctx.say(
          !kept.copies.length
            ? `no kept copies of ${deployment}'s replaced data`
            : !chosen.length
              ? `nothing to drop: no kept copy is older than ${humanAge(opts.olderThan!)}`
              : `would drop ${chosen.length} (${total}); run again without --dry-run to drop them`,
        );
        ctx.json({ deployment, copies: kept.copies, chosen: chosen.map((c) => c.name), dropped: [] });
        return;
      }
      if (!opts.yes) {
        const question = `Drop ${chosen.length} kept ${chosen.length === 1 ? 'copy' : 'copies'} of ${deployment}'s replaced data (${total})? They are the undo of past restores; this cannot be undone.`;
        if (!canAsk())
          throw new BadInputError(`not a terminal, so not asking: ${question}`, 'pass --yes to drop them (nothing was dropped)');
        if (!(await confirmed(question))) {
          ctx.say('nothing was dropped');
          ctx.json({ deployment, copies: kept.copies, chosen: chosen.map((c) => c.name), dropped: [] });
          return;
        }
      }
      process.exitCode = await runOperation(
        ctx,
        { operation: 'cleanup', workflowType: 'cleanup', deployment, input: { deployment, names: chosen.map((c) => c.name) } },
        {},
      );
    });
}
