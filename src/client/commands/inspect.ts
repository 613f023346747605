// `day2 status`, `day2 list`, `day2 cancel`: read-only views and a clean cancel.
import { WorkflowFailedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { InvalidArgumentError, type Command } from 'commander';
import { BadInputError, EXIT } from '../../domain/errors';
import { operationOf } from '../../domain/operations';
import { DEPLOYMENT, WAITING_GATE } from '../../domain/search-attributes';
import { mutatingWorkflowId } from '../../domain/workflow-ids';
import type { CliContext } from '../context';
import { deepestMessage } from '../../domain/failure-chain';
import { follow, printOutcome, queryProgress } from '../follow';
import { listOperations, type ListedOperation } from '../list-operations';
import { verdictNeedsResult, verdictOf, type Verdict } from '../operation-verdict';
import { duration, renderStatus, type WorkflowSummary } from '../render-progress';
import { resolveWorkflowId } from '../resolve-target';
import { RefusedError } from '../start-operation';

async function describeOrExplain(ctx: CliContext, workflowId: string, target?: string, run?: string) {
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId, run ? await runIdOf(client, workflowId, run) : undefined);
  try {
    return { handle, desc: await handle.describe() };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    if (target && ctx.config.deployments[target]) throw new BadInputError(`no operation has run on deployment '${target}' yet`);
    throw new BadInputError(`no workflow '${workflowId}'`, '`day2 list` shows the operations');
  }
}

/** `day2 list`'s RUN column: the run id's last 12 characters (its random part; a run id's
 * first ones are a timestamp, shared by runs started close together). */
export const shortRunId = (runId: string) => runId.slice(-12);

/** The run of `workflowId` that `run` names: a whole run id, or the end `day2 list` shows
 * (or a start) of exactly one of its runs. */
async function runIdOf(client: Client, workflowId: string, run: string): Promise<string> {
  const runs: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, '')}'` })) runs.push(wf.runId);
  const matching = runs.filter((r) => r === run || r.endsWith(run) || r.startsWith(run));
  if (matching.length === 1) return matching[0]!;
  if (!matching.length) {
    throw new BadInputError(
      `${workflowId} has no run '${run}'`,
      `\`day2 list\` shows each operation's RUN; ${workflowId} has ${runs.length} run(s)`,
    );
  }
  throw new BadInputError(`'${run}' names ${matching.length} runs of ${workflowId}`, 'give more of the run id');
}

/** What a workflow's end says beyond Temporal's status: why a closed workflow failed, or
 * that a COMPLETED upgrade ended rolled back (see operation-verdict.ts). */
async function verdictOfRun(handle: { result(): Promise<unknown> }, type: string, deployment: string, status: string): Promise<Verdict> {
  if (status === 'RUNNING' || status === 'CANCELLED') return { status };
  try {
    return verdictOf(type, deployment, status, await handle.result());
  } catch (err) {
    return { status, error: err instanceof WorkflowFailedError ? deepestMessage(err) : (err as Error).message };
  }
}

const deploymentOfRun = (wf: Pick<WorkflowExecutionInfo, 'typedSearchAttributes' | 'workflowId'>) =>
  wf.typedSearchAttributes.get(DEPLOYMENT) ?? wf.workflowId.replace(/^day2-/, '');

async function showStatus(ctx: CliContext, target: string | undefined, run?: string): Promise<void> {
  const workflowId = resolveWorkflowId(ctx, target);
  const { handle, desc } = await describeOrExplain(ctx, workflowId, target, run);
  const progress = await queryProgress(handle);
  const verdict = await verdictOfRun(handle, desc.type, deploymentOfRun(desc), desc.status.name);
  const summary: WorkflowSummary = {
    workflowId: desc.workflowId,
    runId: desc.runId,
    type: desc.type,
    status: verdict.status,
    startTime: desc.startTime,
    closeTime: desc.closeTime,
    error: verdict.error,
  };
  const webUi = ctx.uiLink(desc.workflowId, desc.runId);
  ctx.say(renderStatus(summary, progress));
  ctx.say(`  Web UI: ${webUi}`);
  ctx.json({ ...summary, progress, webUi });
}

/** One line per configured deployment: its latest mutating operation. */
async function showAllDeployments(ctx: CliContext): Promise<void> {
  const client = await ctx.client();
  const rows = [];
  for (const deployment of Object.keys(ctx.config.deployments)) {
    const handle = client.workflow.getHandle(mutatingWorkflowId(deployment));
    const desc = await handle.describe().catch(() => undefined);
    const gate = desc?.typedSearchAttributes.get(WAITING_GATE);
    const status = desc && (await verdictOfRun(handle, desc.type, deployment, desc.status.name)).status;
    const state = !desc ? 'no operation yet' : `${desc.type} ${status}${gate ? ` — waiting at gate '${gate}'` : ''}`;
    ctx.say(`${deployment.padEnd(16)} ${state}`);
    rows.push({ deployment, workflowId: desc?.workflowId, runId: desc?.runId, type: desc?.type, status, gate: gate || undefined });
  }
  ctx.json(rows);
}

async function listRow(wf: ListedOperation, now: Date) {
  const end = wf.closeTime ?? now;
  const deployment = wf.deployment ?? wf.workflowId.replace(/^day2-/, '');
  // Only a COMPLETED run can say more than its status (a rolled-back upgrade): the table
  // shows no error text, so no other row's result is fetched.
  const verdict =
    wf.status === 'COMPLETED' && verdictNeedsResult(wf.type)
      ? await verdictOfRun(wf, wf.type, deployment, wf.status)
      : { status: wf.status };
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    operation: wf.operation ?? operationOf(wf.type) ?? wf.type,
    deployment: wf.deployment ?? '',
    status: verdict.status,
    startTime: wf.startTime,
    closeTime: wf.closeTime,
    gate: wf.gate,
    took: duration(end.getTime() - wf.startTime.getTime()),
  };
}

function printTable(ctx: CliContext, rows: Array<Awaited<ReturnType<typeof listRow>>>): void {
  const cells = rows.map((r) => [
    r.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
    r.status,
    r.operation,
    r.deployment,
    r.workflowId,
    shortRunId(r.runId),
    r.gate ? `waiting at gate '${r.gate}' (${r.took})` : r.closeTime ? `took ${r.took}` : `running ${r.took}`,
  ]);
  const header = ['STARTED', 'STATUS', 'OPERATION', 'DEPLOYMENT', 'WORKFLOW ID', 'RUN', 'STATE'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [header, ...cells]) ctx.say(line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

async function cancelOperation(ctx: CliContext, target: string, waitSeconds: number | false): Promise<number> {
  const { handle, desc } = await describeOrExplain(ctx, resolveWorkflowId(ctx, target), target);
  if (desc.status.name !== 'RUNNING') throw new RefusedError(`${desc.workflowId} is ${desc.status.name}: nothing to cancel`);
  await handle.cancel();
  ctx.say(`cancellation requested for ${desc.type} ${desc.workflowId} (run ${desc.runId})`);
  if (waitSeconds === false) {
    ctx.say(`  follow with: day2 status ${desc.workflowId} --follow`);
    ctx.json({ workflowId: desc.workflowId, runId: desc.runId, status: 'CANCEL_REQUESTED' });
    return EXIT.ok;
  }
  // It unwinds first (drops a staging database, restarts stopped services…): wait for that.
  const deadline = Date.now() + waitSeconds * 1000;
  let status = 'RUNNING';
  while (status === 'RUNNING' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    status = (await handle.describe()).status.name;
  }
  const progress = await queryProgress(handle);
  const webUi = ctx.uiLink(desc.workflowId, desc.runId);
  ctx.json({ workflowId: desc.workflowId, runId: desc.runId, status, outcome: progress?.outcome, progress, webUi });
  if (status === 'RUNNING') {
    ctx.warn(`✗ ${desc.workflowId} is still unwinding after ${waitSeconds} s; follow with: day2 status ${desc.workflowId} --follow`);
    return EXIT.failed;
  }
  ctx.say(
    `${status === 'CANCELLED' ? '✓' : '•'} ${desc.workflowId} ${status}: ${progress?.outcome ?? '(no worker answered the progress query)'}`,
  );
  ctx.say(`  Web UI: ${webUi}`);
  return EXIT.ok;
}

export function registerInspectCommands(program: Command, context: () => CliContext): void {
  program
    .command('status [target]')
    .description(
      "show an operation's steps with their times, the gate it waits at and how to decide it, and its outcome (target: a deployment or a workflow id; none: every deployment)",
    )
    .option('-f, --follow', 'keep following until it finishes (through gates)')
    .option('--run <run-id>', 'a past run (the RUN column of day2 list, or a whole run id) instead of the latest')
    .addHelpText(
      'after',
      '\nExample:\n  day2 status ledger\n  day2 status day2-ledger --follow\n  day2 status ledger --run 3f2a9c1d04e7\n  day2 status --json | jq .progress.gate',
    )
    .action(async (target: string | undefined, opts: { follow?: boolean; run?: string }) => {
      const ctx = context();
      if (!target && Object.keys(ctx.config.deployments).length > 1 && !opts.follow && !opts.run) return showAllDeployments(ctx);
      if (!opts.follow) return showStatus(ctx, target, opts.run);
      const { handle, desc } = await describeOrExplain(ctx, resolveWorkflowId(ctx, target), target, opts.run);
      const what = operationOf(desc.type) ?? desc.type;
      ctx.say(`following ${what} ${desc.workflowId} (run ${desc.runId})`);
      ctx.say(`  Web UI: ${ctx.uiLink(desc.workflowId, desc.runId)}`);
      const outcome = await follow(ctx, handle, { throughGates: true });
      await printOutcome(ctx, handle, outcome);
      process.exitCode = outcome.exitCode;
    });

  program
    .command('list')
    .description('list day2 operations, newest first, with the gate each waits at')
    .option('-d, --deployment <name>', 'only this deployment')
    .option('--running', 'only running ones')
    .option('-n, --limit <n>', 'at most this many', parseLimit, 20)
    .addHelpText('after', '\nExample:\n  day2 list --deployment ledger --running\n  day2 list --json --limit 100')
    .action(async (opts: { deployment?: string; running?: boolean; limit: number }) => {
      const ctx = context();
      const clauses = ['Day2Operation IS NOT NULL'];
      if (opts.deployment) clauses.push(`Day2Deployment = '${opts.deployment.replace(/'/g, '')}'`);
      if (opts.running) clauses.push(`ExecutionStatus = 'Running'`);
      const now = new Date();
      const rows = await Promise.all((await listOperations(ctx, clauses.join(' AND '), opts.limit)).map((wf) => listRow(wf, now)));
      if (rows.length) printTable(ctx, rows);
      else ctx.say(`no day2 operations found${opts.deployment ? ` for ${opts.deployment}` : ''}${opts.running ? ' running' : ''}`);
      ctx.json(rows);
    });

  program
    .command('cancel <target>')
    .description(
      'cancel a running operation: it unwinds what it must (drops a staging database, restarts services it stopped) and ends CANCELLED with an outcome that says what changed',
    )
    .option('--wait <seconds>', 'how long to wait for it to unwind', parseLimit, 120)
    .option('--no-wait', 'return once the cancellation is requested')
    .addHelpText('after', '\nExample:\n  day2 cancel ledger\n  day2 cancel day2-ledger --no-wait')
    .action(async (target: string, opts: { wait: number | false }) => {
      process.exitCode = await cancelOperation(context(), target, opts.wait);
    });
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive whole number`);
  return n;
}
