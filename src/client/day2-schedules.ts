// day2's schedules as Temporal Schedules: one per deployment and name, carrying a memo that
// says what it is, so they can be listed, found by name, created or updated. Each run
// starts the operation's scheduled workflow (src/domain/operations.ts), which runs it or,
// when another operation holds the deployment, is skipped and says so.
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
import { BadInputError } from '../domain/errors';
import { deepestMessage } from '../domain/failure-chain';
import { OPERATIONS, type ScheduledOperation } from '../domain/operations';
import { DEPLOYMENT } from '../domain/search-attributes';
import type { ScheduledBackupResult, ScheduledDrillResult } from '../domain/types';
import type { InputOf, ScheduledWorkflow } from './workflow-types';

/** What day2 keeps in each schedule's memo: list and remove read it back. */
export interface ScheduleMemo<O extends ScheduledOperation = ScheduledOperation> {
  deployment: string;
  name: string;
  operation: O;
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

export interface SpecOptions {
  every?: string;
  cron?: string;
  timezone?: string;
}

export function specOf(opts: SpecOptions): { spec: ScheduleSpec; text: string; slug: string } {
  if ((opts.every === undefined) === (opts.cron === undefined))
    throw new BadInputError('give exactly one of --every <interval> and --cron "<expression>"');
  if (opts.every !== undefined) {
    if (opts.timezone) throw new BadInputError('--timezone applies to --cron only: an interval runs every so long in any time zone');
    return { spec: { intervals: [{ every: opts.every }] }, text: `every ${opts.every}`, slug: `every-${opts.every}` };
  }
  const cron = opts.cron!;
  const zone = opts.timezone ?? 'UTC';
  const slug = `cron-${cron
    .replace(/\*/g, 'x')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}${opts.timezone ? `-${opts.timezone.replace(/[^A-Za-z0-9]+/g, '-')}` : ''}`;
  return {
    spec: { cronExpressions: [cron], timezone: zone },
    text: `cron "${cron}" (${zone})`,
    slug: slug.toLowerCase().slice(0, 63).replace(/-$/, ''),
  };
}

/** A schedule's interval (milliseconds, as Temporal returns it) the way it was given: 6h. */
function formatInterval(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

export const isoSeconds = (at: Date) => at.toISOString().replace(/\.\d+Z$/, 'Z');

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
export async function lastRun(client: Client, actions: ScheduleExecutionResult[]): Promise<string | undefined> {
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
export async function day2Schedules(client: Client, deployment?: string): Promise<Day2Schedule[]> {
  const found: Day2Schedule[] = [];
  for await (const summary of client.schedule.list()) {
    const legacy = LEGACY_ID.exec(summary.scheduleId);
    if (!summary.scheduleId.startsWith('day2-')) continue;
    const description = await client.schedule
      .getHandle(summary.scheduleId)
      .describe()
      .catch(() => undefined);
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
export async function findSchedule(
  client: Client,
  deployment: string,
  name: string | undefined,
): Promise<{ handle: ScheduleHandle; name: string }> {
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

function scheduleOptions<O extends ScheduledOperation>(
  taskQueue: string,
  memo: ScheduleMemo<O>,
  spec: ScheduleSpec,
  input: InputOf<ScheduledWorkflow<O>>,
  workflowMemo: Record<string, unknown> = {},
): ScheduleOptions {
  return {
    scheduleId: scheduleId(memo.deployment, memo.name),
    spec,
    // A run still going when the next is due: skip the next (runs are not queued up).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    action: {
      type: 'startWorkflow',
      workflowType: OPERATIONS[memo.operation].scheduled,
      workflowId: `day2-${memo.deployment}-scheduled-${memo.name}`,
      taskQueue,
      args: [input],
      // Deployment only: Day2Operation is the operation's own workflow's (the backup or drill
      // child), so visibility's "newest completed backup" never finds a skipped run.
      typedSearchAttributes: [{ key: DEPLOYMENT, value: memo.deployment }],
      // The spec as given rides with the action: an update replaces it (a schedule's own
      // memo cannot be updated), and Temporal returns cron specs only as calendars.
      memo: { [SPEC_KEY]: memo.spec, ...workflowMemo },
    },
    memo: {
      day2: `${memo.operation} of ${memo.deployment}`,
      [MEMO_KEY]: { deployment: memo.deployment, name: memo.name, operation: memo.operation },
    },
  };
}

/** Creates the schedule, or updates the one of that name; returns which, and its id. */
export async function putSchedule<O extends ScheduledOperation>(
  client: Client,
  taskQueue: string,
  memo: ScheduleMemo<O>,
  spec: ScheduleSpec,
  input: InputOf<ScheduledWorkflow<O>>,
  /** The runs' own memo beside the spec: the deployment's host (hostMemo). */
  workflowMemo?: Record<string, unknown>,
): Promise<{ verb: 'created' | 'updated'; scheduleId: string }> {
  const options = scheduleOptions(taskQueue, memo, spec, input, workflowMemo);
  try {
    await client.schedule.create(options);
    return { verb: 'created', scheduleId: options.scheduleId };
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      await client.schedule
        .getHandle(options.scheduleId)
        .update((previous) => ({ ...previous, spec: options.spec, policies: options.policies, action: options.action }));
      return { verb: 'updated', scheduleId: options.scheduleId };
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
