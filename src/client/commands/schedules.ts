// `day2 schedule backup|drill|list|trigger|remove`: scheduled backups and DR drills as
// Temporal Schedules, visible and pausable in the Web UI. A deployment may have several
// (hourly local backups, a daily one, a monthly drill), each named. Each run starts the
// `scheduledBackup` or `scheduledDrill` workflow, which runs the operation or, when another
// operation holds the deployment, is skipped, says so and tells the webhook
// (src/workflows/scheduled-backup.ts, scheduled-drill.ts).
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowFailedError,
  type Client,
  type ScheduleDescription,
  type ScheduleExecutionResult,
  type ScheduleHandle,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultDeployment } from '../../config';
import type { ScheduledBackupInput, ScheduledBackupResult, ScheduledDrillInput, ScheduledDrillResult } from '../../domain/types';
import { deepestMessage } from '../../domain/failure-chain';
import { BadInputError } from '../../domain/errors';
import { DEPLOYMENT } from '../../domain/search-attributes';
import type { CliContext } from '../context';
import { parseCount } from './operations';

export type ScheduledOperation = 'backup' | 'drill';

/** What day2 keeps in each schedule's memo: list and remove read it back. */
interface ScheduleMemo {
  deployment: string;
  name: string;
  operation: ScheduledOperation;
  /** `every 6h`, `cron "0 2 * * *" (Europe/Paris)`: as the operator gave it. */
  spec: string;
}

const MEMO_KEY = 'day2Schedule';
const SPEC_KEY = 'day2ScheduleSpec';

export const scheduleId = (deployment: string, name: string) => `day2-${deployment}-schedule-${name}`;
/** The one backup schedule per deployment that day2 made before schedules had names; it
 * is listed, triggered and removed as `backup`. */
export const legacyBackupScheduleId = (deployment: string) => `day2-${deployment}-backup-schedule`;
const LEGACY_NAME = 'backup';
const LEGACY_ID = /^day2-(.+)-backup-schedule$/;

/** `30m`, `6h`, `1d`: a whole number of minutes, hours or days, at least one minute. */
export function parseInterval(value: string): string {
  const m = /^([1-9]\d*)(m|h|d)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`'${value}' is not an interval: use minutes, hours or days, e.g. 30m, 6h, 1d`);
  return `${m[1]}${m[2]}`;
}

const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Five cron fields (minute hour day-of-month month day-of-week) or a macro such as
 * @daily; Temporal checks each field when the schedule is created. */
export function parseCron(value: string): string {
  const text = value.trim().replace(/\s+/g, ' ');
  if (CRON_MACROS.includes(text) || (text.split(' ').length === 5 && /^[0-9*/,\-A-Za-z? ]+$/.test(text))) return text;
  throw new InvalidArgumentError(`'${value}' is not a cron expression: give five fields (minute hour day month weekday), e.g. "0 2 * * *"`);
}

export function parseTimezone(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InvalidArgumentError(`'${value}' is not an IANA time zone, e.g. UTC, Europe/Paris, America/New_York`);
  }
  return value;
}

export function parseScheduleName(value: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(value)) throw new InvalidArgumentError(`'${value}' is not a schedule name: letters, digits and '-', e.g. hourly, daily-offsite`);
  return value;
}

interface SpecOptions {
  every?: string;
  cron?: string;
  timezone?: string;
}

function specOf(opts: SpecOptions): { spec: ScheduleSpec; text: string; slug: string } {
  if ((opts.every === undefined) === (opts.cron === undefined)) throw new BadInputError('give exactly one of --every <interval> and --cron "<expression>"');
  if (opts.every !== undefined) {
    if (opts.timezone) throw new BadInputError('--timezone applies to --cron only: an interval runs every so long in any time zone');
    return { spec: { intervals: [{ every: opts.every }] }, text: `every ${opts.every}`, slug: `every-${opts.every}` };
  }
  const cron = opts.cron!;
  const zone = opts.timezone ?? 'UTC';
  const slug = `cron-${cron.replace(/\*/g, 'x').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}${opts.timezone ? `-${opts.timezone.replace(/[^A-Za-z0-9]+/g, '-')}` : ''}`;
  return { spec: { cronExpressions: [cron], timezone: zone }, text: `cron "${cron}" (${zone})`, slug: slug.toLowerCase().slice(0, 63).replace(/-$/, '') };
}

/** A schedule's interval (milliseconds, as Temporal returns it) the way it was given: 6h. */
function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

const isoSeconds = (at: Date) => at.toISOString().replace(/\.\d+Z$/, 'Z');

type ScheduledResult = ScheduledBackupResult | ScheduledDrillResult;

function describeResult(result: ScheduledResult): string {
  switch (result.outcome) {
    case 'backed-up':
      return `backed up ${result.file}`;
    case 'drilled':
      return result.ok ? `drill passed: ${result.file} restores` : `drill FAILED: ${result.file} (see ${result.workflowId})`;
    case 'skipped':
      return `skipped: ${result.reason}`;
  }
}

/** How a schedule's latest run ended, in a line: a run skipped because the deployment was
 * busy must be as visible as one that backed up, or repeated skips go unnoticed. */
async function lastRun(client: Client, actions: ScheduleExecutionResult[]): Promise<string | undefined> {
  const latest = actions.at(-1);
  if (!latest) return undefined;
  const at = isoSeconds(latest.takenAt);
  const { workflowId, firstExecutionRunId } = latest.action.workflow;
  const handle = client.workflow.getHandle<() => Promise<ScheduledResult>>(workflowId, firstExecutionRunId);
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return `${at} running (${workflowId})`;
    return `${at} ${describeResult(await handle.result())}`;
  } catch (err) {
    return `${at} failed: ${err instanceof WorkflowFailedError ? deepestMessage(err) : (err as Error).message}`;
  }
}

interface Day2Schedule {
  scheduleId: string;
  memo: ScheduleMemo;
  description: ScheduleDescription;
}

/** day2's schedules (those carrying its memo, and the old unnamed backup schedule). */
async function day2Schedules(client: Client, deployment?: string): Promise<Day2Schedule[]> {
  const found: Day2Schedule[] = [];
  for await (const summary of client.schedule.list()) {
    const legacy = LEGACY_ID.exec(summary.scheduleId);
    if (!summary.scheduleId.startsWith('day2-')) continue;
    const description = await client.schedule.getHandle(summary.scheduleId).describe().catch(() => undefined);
    if (!description) continue; // removed while we listed
    const memo = memoOf(description, legacy?.[1]);
    if (!memo || (deployment !== undefined && memo.deployment !== deployment)) continue;
    found.push({ scheduleId: summary.scheduleId, memo, description });
  }
  return found.sort((a, b) => a.memo.deployment.localeCompare(b.memo.deployment) || a.memo.name.localeCompare(b.memo.name));
}

function memoOf(description: ScheduleDescription, legacyDeployment: string | undefined): ScheduleMemo | undefined {
  const identity = description.memo?.[MEMO_KEY] as Omit<ScheduleMemo, 'spec'> | undefined;
  const every = description.spec.intervals?.[0]?.every;
  const given = description.action.type === 'startWorkflow' ? (description.action.memo?.[SPEC_KEY] as string | undefined) : undefined;
  const spec = given ?? (every === undefined ? 'calendar spec (see the Web UI)' : `every ${formatInterval(Number(every))}`);
  if (identity?.name && identity.deployment) return { ...identity, spec };
  if (legacyDeployment === undefined) return undefined;
  return { deployment: legacyDeployment, name: LEGACY_NAME, operation: 'backup', spec };
}

/** The handle of the deployment's schedule `name`, or bad input naming the ones there are. */
async function findSchedule(client: Client, deployment: string, name: string | undefined): Promise<{ handle: ScheduleHandle; name: string }> {
  if (name !== undefined) {
    for (const id of [scheduleId(deployment, name), ...(name === LEGACY_NAME ? [legacyBackupScheduleId(deployment)] : [])]) {
      const handle = client.schedule.getHandle(id);
      const exists = await handle.describe().then(
        () => true,
        (err) => {
          if (err instanceof ScheduleNotFoundError) return false;
          throw err;
        },
      );
      if (exists) return { handle, name };
    }
  }
  const all = await day2Schedules(client, deployment);
  if (name === undefined && all.length === 1) return { handle: client.schedule.getHandle(all[0]!.scheduleId), name: all[0]!.memo.name };
  const names = all.map((s) => s.memo.name).join(', ');
  const what = name === undefined ? `${deployment} has ${all.length} schedules: name one` : `${deployment} has no schedule named '${name}'`;
  throw new BadInputError(`${what} (${names ? `it has: ${names}` : 'it has none'}); see day2 schedule list`);
}

function scheduleOptions(ctx: CliContext, memo: ScheduleMemo, spec: ScheduleSpec, workflowType: string, input: ScheduledBackupInput | ScheduledDrillInput): ScheduleOptions {
  return {
    scheduleId: scheduleId(memo.deployment, memo.name),
    spec,
    // A run still going when the next is due: skip the next (runs are not queued up).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    action: {
      type: 'startWorkflow',
      workflowType,
      workflowId: `day2-${memo.deployment}-scheduled-${memo.name}`,
      taskQueue: ctx.config.temporal.taskQueue,
      args: [input],
      // Deployment only: Day2Operation is the operation's own workflow's (the backup or drill
      // child), so visibility's "newest completed backup" never finds a skipped run.
      typedSearchAttributes: [{ key: DEPLOYMENT, value: memo.deployment }],
      // The spec as given rides with the action: an update replaces it (a schedule's own
      // memo cannot be updated), and Temporal returns cron specs only as calendars.
      memo: { [SPEC_KEY]: memo.spec },
    },
    memo: { day2: `${memo.operation} of ${memo.deployment}`, [MEMO_KEY]: { deployment: memo.deployment, name: memo.name, operation: memo.operation } },
  };
}

/** Creates the schedule, or updates the one of that name. */
async function putSchedule(ctx: CliContext, options: ScheduleOptions): Promise<'created' | 'updated'> {
  const client = await ctx.client();
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({ ...previous, spec: options.spec, policies: options.policies, action: options.action }));
      return 'updated';
    }
    // The server checks each cron field (and the time zone): its answer is bad input.
    if (isInvalidArgument(err)) throw new BadInputError(`Temporal refused the schedule: ${deepestMessage(err)}`);
    throw err;
  }
}

/** gRPC INVALID_ARGUMENT (3), on the error or the one it wraps; the SDK turns "Invalid
 * schedule spec" answers into a TypeError carrying the server's words. */
function isInvalidArgument(err: unknown): boolean {
  if (err instanceof TypeError) return true;
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === 3) return true;
  }
  return false;
}

interface CreateOptions extends SpecOptions {
  name?: string;
  deployment?: string;
  keep?: number;
}

function addSpecOptions(cmd: Command): Command {
  return cmd
    .option('--every <interval>', 'how often: 30m, 6h, 1d …', parseInterval)
    .option('--cron <expression>', 'when, as cron fields: "0 2 * * *" (02:00 every day), "0 3 1 * *" (the 1st of each month, 03:00)', parseCron)
    .option('--timezone <zone>', 'IANA time zone of --cron (default UTC)', parseTimezone)
    .option('--name <name>', 'the schedule\'s name, unique per deployment (default: from the operation and spec, e.g. backup-every-6h)', parseScheduleName)
    .option('-d, --deployment <name>', 'deployment (default: the only one configured)');
}

async function createSchedule(ctx: CliContext, operation: ScheduledOperation, opts: CreateOptions, input: (deployment: string, name: string) => ScheduledBackupInput | ScheduledDrillInput): Promise<void> {
  const deployment = defaultDeployment(ctx.config, opts.deployment);
  const { spec, text, slug } = specOf(opts);
  const name = opts.name ?? `${operation}-${slug}`;
  const memo: ScheduleMemo = { deployment, name, operation, spec: text };
  const options = scheduleOptions(ctx, memo, spec, operation === 'backup' ? 'scheduledBackup' : 'scheduledDrill', input(deployment, name));
  const verb = await putSchedule(ctx, options);
  const next = (await (await ctx.client()).schedule.getHandle(options.scheduleId).describe()).info.nextActionTimes[0];
  ctx.say(`${verb} schedule ${name}: ${operation === 'backup' ? 'a backup' : 'a DR drill'} of ${deployment} ${text}${next ? `, next ${isoSeconds(next)}` : ''}`);
  ctx.say(`  Web UI: ${ctx.config.temporal.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(ctx.config.temporal.namespace)}/schedules/${encodeURIComponent(options.scheduleId)}`);
  ctx.json({ name, scheduleId: options.scheduleId, deployment, operation, spec: text, next: next?.toISOString(), status: verb });
}

export function registerScheduleCommands(program: Command, context: () => CliContext): void {
  const schedule = program.command('schedule').description('scheduled backups and DR drills (Temporal Schedules): create, list, trigger, remove');

  addSpecOptions(
    schedule
      .command('backup')
      .description('back the deployment up every INTERVAL or on a cron spec (creates the named schedule, or updates it); a run that finds another operation holding the deployment is skipped, says why and tells the webhook'),
  )
    .option('--keep <n>', 'backups to keep (default: backup.keep in day2.yaml)', parseCount)
    .addHelpText('after', '\nExamples:\n  day2 schedule backup --every 1h --name hourly --deployment ledger\n  day2 schedule backup --cron "0 2 * * *" --timezone Europe/Paris --name nightly')
    .action(async (opts: CreateOptions) => {
      await createSchedule(context(), 'backup', opts, (deployment, name) => {
        const b = context().config.deployments[deployment]?.backup;
        return { deployment, keep: opts.keep, schedule: name, ...(b?.method === 'pgbackrest' && b.pgbackrest ? { pgbackrestType: b.pgbackrest.type } : {}) };
      });
    });

  addSpecOptions(
    schedule
      .command('drill')
      .description('DR-drill the newest backup on a schedule (the runbooks\' monthly restore test): each run restores it into a scratch cluster and checks it; production is not touched; skipped, saying why, while another operation holds the deployment'),
  )
    .option('--local', 'drill the newest local backup even when backup.offsite is configured')
    .addHelpText('after', '\nExample:\n  day2 schedule drill --cron "0 3 1 * *" --name monthly --deployment ledger')
    .action(async (opts: CreateOptions & { local?: boolean }) => {
      // With an off-site copy configured, the monthly drill proves what a lost host leaves:
      // the newest copy in the bucket, downloaded and verified like `day2 drill --remote latest`.
      const ctx = context();
      const drillOf = (deployment: string) => (ctx.config.deployments[deployment]?.backup.offsite && !opts.local ? { remote: 'latest' } : {});
      await createSchedule(ctx, 'drill', opts, (deployment, name) =>
        ctx.config.deployments[deployment]?.backup.method === 'pgbackrest' ? { deployment, schedule: name, pgbackrest: true } : { deployment, schedule: name, drill: drillOf(deployment) },
      );
    });

  schedule
    .command('list')
    .description("list day2's schedules: name, what and when, the next run, and how the last run ended (backed up, drill passed or FAILED, skipped and why, or failed)")
    .option('-d, --deployment <name>', 'only this deployment\'s schedules (default: all)')
    .addHelpText('after', '\nExample:\n  day2 schedule list')
    .action(async (opts: { deployment?: string }) => {
      const ctx = context();
      const client = await ctx.client();
      const rows: Array<{ name: string; scheduleId: string; deployment: string; operation: string; spec: string; paused: boolean; next?: string; last?: string }> = [];
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
        ctx.say(`${r.name}  ${r.operation} of ${r.deployment}  ${r.spec}  next ${r.next ? isoSeconds(new Date(r.next)) : '-'}${r.paused ? '  (paused)' : ''}`);
        ctx.say(`  last run: ${r.last ?? 'none yet'}`);
      }
      if (!rows.length) ctx.say('no schedules — create one with: day2 schedule backup --every 6h');
      ctx.json(rows);
    });

  schedule
    .command('trigger')
    .argument('[name]', 'the schedule (default: the deployment\'s only one)')
    .description('run a schedule once now, as its next run would (a busy deployment skips it the same way); the schedule itself is unchanged')
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
      ctx.say(started ? `triggered schedule ${name}: started ${started}` : `triggered schedule ${name}: its run will show in day2 schedule list`);
      if (started) ctx.say(`  Web UI: ${ctx.uiLink(started)}`);
      ctx.json({ name, scheduleId: handle.scheduleId, workflowId: started, status: 'triggered' });
    });

  schedule
    .command('remove')
    .argument('[name]', 'the schedule (default: the deployment\'s only one)')
    .description('remove one of the deployment\'s schedules (backups already taken stay)')
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
