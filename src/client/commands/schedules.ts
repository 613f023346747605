// `day2 schedule backup|list|remove`: scheduled backups as Temporal Schedules, visible and
// pausable in the Web UI. Each run starts the `scheduledBackup` workflow, which backs up
// under the deployment's single mutating id or, when an operation holds the deployment,
// is skipped and says so (src/workflows/scheduled-backup.ts).
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowFailedError, type Client, type ScheduleExecutionResult, type ScheduleOptions } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { ScheduledBackupInput, ScheduledBackupResult } from '../../domain/types';
import { deepestMessage } from '../../domain/failure-chain';
import { BadInputError } from '../../domain/errors';
import { DEPLOYMENT } from '../../domain/search-attributes';
import type { CliContext } from '../context';
import { parseCount } from './operations';

export const backupScheduleId = (deployment: string) => `day2-${deployment}-backup-schedule`;

/** `30m`, `6h`, `1d`: a whole number of minutes, hours or days, at least one minute. */
export function parseInterval(value: string): string {
  const m = /^([1-9]\d*)(m|h|d)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`'${value}' is not an interval: use minutes, hours or days, e.g. 30m, 6h, 1d`);
  return `${m[1]}${m[2]}`;
}

/** A schedule's interval (milliseconds, as Temporal returns it) the way it was given: 6h. */
function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

/** How a schedule's latest run ended, in a line: a run skipped because the deployment was
 * busy must be as visible as one that backed up, or repeated skips go unnoticed. */
async function lastRun(client: Client, actions: ScheduleExecutionResult[]): Promise<string | undefined> {
  const latest = actions.at(-1);
  if (!latest) return undefined;
  const at = latest.takenAt.toISOString().replace(/\.\d+Z$/, 'Z');
  const { workflowId, firstExecutionRunId } = latest.action.workflow;
  const handle = client.workflow.getHandle<() => Promise<ScheduledBackupResult>>(workflowId, firstExecutionRunId);
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return `${at} running`;
    const result = await handle.result();
    return result.outcome === 'backed-up' ? `${at} backed up ${result.file}` : `${at} skipped: ${result.reason}`;
  } catch (err) {
    return `${at} failed: ${err instanceof WorkflowFailedError ? deepestMessage(err) : (err as Error).message}`;
  }
}

export function registerScheduleCommands(program: Command, context: () => CliContext): void {
  const schedule = program.command('schedule').description('scheduled backups (Temporal Schedules): create, list, remove');

  schedule
    .command('backup')
    .description('back the deployment up every INTERVAL (creates the schedule, or updates it); a run that finds another operation holding the deployment is skipped and says why')
    .requiredOption('--every <interval>', 'how often: 30m, 6h, 1d …', parseInterval)
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .option('--keep <n>', 'backups to keep (default: backup.keep in day2.yaml)', parseCount)
    .addHelpText('after', '\nExample:\n  day2 schedule backup --every 6h --deployment ledger')
    .action(async (opts: { every: string; deployment?: string; keep?: number }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const client = await ctx.client();
      const scheduleId = backupScheduleId(deployment);
      const input: ScheduledBackupInput = { deployment, keep: opts.keep };
      const options: ScheduleOptions = {
        scheduleId,
        spec: { intervals: [{ every: opts.every }] },
        // A run still going when the next is due: skip the next (backups are not queued up).
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        action: {
          type: 'startWorkflow',
          workflowType: 'scheduledBackup',
          workflowId: `day2-${deployment}-scheduled-backup`,
          taskQueue: ctx.config.temporal.taskQueue,
          args: [input],
          typedSearchAttributes: [{ key: DEPLOYMENT, value: deployment }],
        },
        memo: { day2: `backup of ${deployment} every ${opts.every}` },
      };
      let verb = 'created';
      try {
        await client.schedule.create(options);
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec: options.spec, policies: options.policies, action: options.action }));
        verb = 'updated';
      }
      ctx.say(`${verb} schedule ${scheduleId}: a backup of ${deployment} every ${opts.every}`);
      ctx.say(`  Web UI: ${ctx.config.temporal.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ctx.config.temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`);
      ctx.json({ scheduleId, deployment, every: opts.every, status: verb });
    });

  schedule
    .command('list')
    .description("list day2's backup schedules with their next run and how the last one ended (backed up, skipped and why, or failed)")
    .addHelpText('after', '\nExample:\n  day2 schedule list')
    .action(async () => {
      const ctx = context();
      const client = await ctx.client();
      const rows: Array<{ scheduleId: string; paused: boolean; next?: string; every?: string; last?: string }> = [];
      for await (const s of client.schedule.list()) {
        if (!s.scheduleId.startsWith('day2-') || !s.scheduleId.endsWith('-backup-schedule')) continue;
        const every = s.spec?.intervals?.[0]?.every;
        rows.push({
          scheduleId: s.scheduleId,
          paused: s.state.paused,
          next: s.info.nextActionTimes[0]?.toISOString(),
          every: every === undefined ? undefined : formatInterval(Number(every)),
          last: await lastRun(client, s.info.recentActions),
        });
      }
      for (const r of rows) {
        ctx.say(`${r.scheduleId}  every ${r.every ?? '?'}  next ${r.next ?? '-'}${r.paused ? '  (paused)' : ''}`);
        ctx.say(`  last run: ${r.last ?? 'none yet'}`);
      }
      if (!rows.length) ctx.say('no backup schedules — create one with: day2 schedule backup --every 6h');
      ctx.json(rows);
    });

  schedule
    .command('remove')
    .description("remove the deployment's backup schedule (backups already taken stay)")
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 schedule remove --deployment ledger')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const scheduleId = backupScheduleId(deployment);
      try {
        await (await ctx.client()).schedule.getHandle(scheduleId).delete();
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw new BadInputError(`${deployment} has no backup schedule (${scheduleId}); see day2 schedule list`);
        throw err;
      }
      ctx.say(`removed schedule ${scheduleId}`);
      ctx.json({ scheduleId, status: 'removed' });
    });
}
