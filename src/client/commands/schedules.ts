// `day2 schedule backup|drill|list|trigger|remove`: scheduled backups and DR drills as
// Temporal Schedules, visible and pausable in the Web UI. A deployment may have several
// (hourly local backups, a daily one, a monthly drill), each named. Each run starts the
// `scheduledBackup` or `scheduledDrill` workflow, which runs the operation or, when another
// operation holds the deployment, is skipped, says so and tells the webhook
// (src/workflows/scheduled-backup.ts, scheduled-drill.ts).
import { InvalidArgumentError, type Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { ScheduledOperation } from '../../domain/operations';
import type { CliContext } from '../context';
import { hostMemo } from '../host-workers';
import {
  day2Schedules,
  findSchedule,
  isoSeconds,
  lastRun,
  putSchedule,
  specOf,
  type ScheduleMemo,
  type SpecOptions,
} from '../day2-schedules';
import type { InputOf, ScheduledWorkflow } from '../workflow-types';
import { parseCount } from './operations';

/** `30m`, `6h`, `1d`: a whole number of minutes, hours or days, at least one minute. */
function parseInterval(value: string): string {
  const m = /^([1-9]\d*)(m|h|d)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`'${value}' is not an interval: use minutes, hours or days, e.g. 30m, 6h, 1d`);
  return `${m[1]}${m[2]}`;
}

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Five cron fields (minute hour day-of-month month day-of-week) or a macro such as
 * @daily; Temporal checks each field when the schedule is created. */
function parseCron(value: string): string {
  const text = value.trim().replace(/\s+/g, ' ');
  if (CRON_MACROS.includes(text) || (text.split(' ').length === 5 && /^[0-9*/,\-A-Za-z? ]+$/.test(text))) return text;
  throw new InvalidArgumentError(`'${value}' is not a cron expression: give five fields (minute hour day month weekday), e.g. "0 2 * * *"`);
}

function parseTimezone(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InvalidArgumentError(`'${value}' is not an IANA time zone, e.g. UTC, Europe/Paris, America/New_York`);
  }
  return value;
}

function parseScheduleName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(value))
    throw new InvalidArgumentError(`'${value}' is not a schedule name: letters, digits and '-', e.g. hourly, daily-offsite`);
  return value;
}

interface CreateOptions extends SpecOptions {
  name?: string;
  deployment?: string;
  keep?: number;
}

function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--every <interval>', 'how often: 30m, 6h, 1d …', parseInterval)
    .option(
      '--cron <expression>',
      'when, as cron fields: "0 2 * * *" (02:00 every day), "0 3 1 * *" (the 1st of each month, 03:00)',
      parseCron,
    )
    .option('--timezone <zone>', 'IANA time zone of --cron (default UTC)', parseTimezone)
    .option(
      '--name <name>',
      "the schedule's name, unique per deployment (default: from the operation and spec, e.g. backup-every-6h)",
      parseScheduleName,
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)');
}

async function createSchedule<O extends ScheduledOperation>(
  ctx: CliContext,
  operation: O,
  opts: CreateOptions,
  input: (deployment: string, name: string) => InputOf<ScheduledWorkflow<O>>,
): Promise<void> {
  const deployment = defaultDeployment(ctx.config, opts.deployment);
  const { spec, text, slug } = specOf(opts);
  const name = opts.name ?? `${operation}-${slug}`;
  const memo: ScheduleMemo<O> = { deployment, name, operation, spec: text };
  const client = await ctx.client();
  const { verb, scheduleId } = await putSchedule(
    client,
    ctx.config.temporal.taskQueue,
    memo,
    spec,
    input(deployment, name),
    hostMemo(ctx, deployment),
  );
  const next = (await client.schedule.getHandle(scheduleId).describe()).info.nextActionTimes[0];
  ctx.say(
    `${verb} schedule ${name}: ${operation === 'backup' ? 'a backup' : 'a DR drill'} of ${deployment} ${text}${next ? `, next ${isoSeconds(next)}` : ''}`,
  );
  ctx.say(
    `  Web UI: ${ctx.config.temporal.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ctx.config.temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`,
  );
  ctx.json({ name, scheduleId, deployment, operation, spec: text, next: next?.toISOString(), status: verb });
}

export function registerScheduleCommands(program: Command, context: () => CliContext): void {
  const schedule = program
    .command('schedule')
    .description('scheduled backups and DR drills (Temporal Schedules): create, list, trigger, remove');

  addSpecOptions(
    schedule
      .command('backup')
      .description(
        'back the deployment up every INTERVAL or on a cron spec (creates the named schedule, or updates it); a run that finds another operation holding the deployment is skipped, says why and tells the webhook',
      ),
  )
    .option('--keep <n>', 'backups to keep (default: backup.keep in day2.yaml)', parseCount)
    .addHelpText(
      'after',
      '\nExamples:\n  day2 schedule backup --every 1h --name hourly --deployment ledger\n  day2 schedule backup --cron "0 2 * * *" --timezone Europe/Paris --name nightly',
    )
    .action(async (opts: CreateOptions) => {
      await createSchedule(context(), 'backup', opts, (deployment, name) => {
        const b = context().config.deployments[deployment]?.backup;
        return {
          deployment,
          keep: opts.keep,
          schedule: name,
          ...(b?.method === 'pgbackrest' && b.pgbackrest ? { pgbackrestType: b.pgbackrest.type } : {}),
        };
      });
    });

  addSpecOptions(
    schedule
      .command('drill')
      .description(
        "DR-drill the newest backup on a schedule (the runbooks' monthly restore test): each run restores it into a scratch cluster and checks it; production is not touched; skipped, saying why, while another operation holds the deployment",
      ),
  )
    .option('--local', 'drill the newest local backup even when backup.offsite is configured')
    .addHelpText('after', '\nExample:\n  day2 schedule drill --cron "0 3 1 * *" --name monthly --deployment ledger')
    .action(async (opts: CreateOptions & { local?: boolean }) => {
      // With an off-site copy configured, the monthly drill proves what a lost host leaves:
      // the newest copy in the bucket, downloaded and verified like `day2 drill --remote latest`.
      const ctx = context();
      const drillOf = (deployment: string) =>
        ctx.config.deployments[deployment]?.backup.offsite && !opts.local ? { remote: 'latest' } : {};
      await createSchedule(ctx, 'drill', opts, (deployment, name) =>
        ctx.config.deployments[deployment]?.backup.method === 'pgbackrest'
          ? { deployment, schedule: name, pgbackrest: true }
          : { deployment, schedule: name, drill: drillOf(deployment) },
      );
    });

  schedule
    .command('list')
    .description(
      "list day2's schedules: name, what and when, the next run, and how the last run ended (backed up, drill passed or FAILED, skipped and why, or failed)",
    )
    .option('-d, --deployment <name>', "only this deployment's schedules (default: all)")
    .addHelpText('after', '\nExample:\n  day2 schedule list')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const client = await ctx.client();
      const rows: Array<{
        name: string;
        scheduleId: string;
        deployment: string;
        operation: string;
        spec: string;
        paused: boolean;
        next?: string;
        last?: string;
      }> = [];
      for (const s of await day2Schedules(client, opts.deployment)) {
        rows.push({
          ...s.memo,
          scheduleId: s.scheduleId,
          paused: s.description.state.paused,
          next: s.description.info.nextActionTimes[0]?.toISOString(),
          last: await lastRun(client, s.description.info.recentActions),
        });
      }
      for (const r of rows) {
        ctx.say(
          `${r.name}  ${r.operation} of ${r.deployment}  ${r.spec}  next ${r.next ? isoSeconds(new Date(r.next)) : '-'}${r.paused ? '  (paused)' : ''}`,
        );
        ctx.say(`  last run: ${r.last ?? 'none yet'}`);
      }
      if (!rows.length) ctx.say('no schedules — create one with: day2 schedule backup --every 6h');
      ctx.json(rows);
    });

  schedule
    .command('trigger')
    .argument('[name]', "the schedule (default: the deployment's only one)")
    .description(
      'run a schedule once now, as its next run would (a busy deployment skips it the same way); the schedule itself is unchanged',
    )
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 schedule trigger hourly --deployment ledger')
    .action(async (nameArg: string | undefined, opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const client = await ctx.client();
      const { handle, name } = await findSchedule(client, deployment, nameArg);
      const before = (await handle.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
      await handle.trigger();
      // The run shows in the schedule's recent actions within moments: name it.
      let started: string | undefined;
      for (let i = 0; i < 50 && !started; i++) {
        const latest = (await handle.describe()).info.recentActions.at(-1)?.action.workflow;
        if (latest && latest.workflowId !== before) started = latest.workflowId;
        else await new Promise((r) => setTimeout(r, 200));
      }
      ctx.say(
        started ? `triggered schedule ${name}: started ${started}` : `triggered schedule ${name}: its run will show in day2 schedule list`,
      );
      if (started) ctx.say(`  Web UI: ${ctx.uiLink(started)}`);
      ctx.json({ name, scheduleId: handle.scheduleId, workflowId: started, status: 'triggered' });
    });

  schedule
    .command('remove')
    .argument('[name]', "the schedule (default: the deployment's only one)")
    .description("remove one of the deployment's schedules (backups already taken stay)")
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)')
    .addHelpText('after', '\nExample:\n  day2 schedule remove hourly --deployment ledger')
    .action(async (nameArg: string | undefined, opts: { deployment?: string }) => {
      const ctx = context();
      const deployment = defaultDeployment(ctx.config, opts.deployment);
      const { handle, name } = await findSchedule(await ctx.client(), deployment, nameArg);
      await handle.delete();
      ctx.say(`removed schedule ${name} (${handle.scheduleId})`);
      ctx.json({ name, scheduleId: handle.scheduleId, status: 'removed' });
    });
}
