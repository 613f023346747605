// Follows a running workflow: prints each step as it changes (with its elapsed time), the
// gate it waits at with the commands that decide it, and the result; stops when the
// workflow finishes or pauses at a gate, and maps the result to an exit code. On a
// terminal the running step ticks on a live line.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { deepestMessage, failureType } from '../domain/failure-chain';
import { EXIT } from '../domain/errors';
import { exitCodeOf } from '../domain/failures';
import { progressQuery } from '../domain/messages';
import { asTransferProgress, type TransferProgress } from '../domain/transfer-progress';
import type { Progress } from '../domain/types';
import type { CliContext } from './context';
import { LiveLine } from './live-line';
import { duration, renderGate, renderHostWait, renderProgress, renderStep } from './render-progress';

export interface FollowOptions {
  /** Keep following through gates instead of returning when one is reached. */
  throughGates?: boolean;
  pollMs?: number;
}

export interface FollowOutcome {
  exitCode: number;
  status: string;
  progress?: Progress;
  result?: unknown;
  error?: string;
}

const QUERY_DEADLINE_MS = 5_000;

export async function follow(ctx: CliContext, handle: WorkflowHandle, opts: FollowOptions = {}): Promise<FollowOutcome> {
  const seen = new Map<string, string>();
  const live = new LiveLine(ctx.humanStream);
  let lastGate: string | undefined;
  let lastHostWait: string | undefined;
  const print = (line: string) => {
    live.clear();
    ctx.say(line);
  };
  // Ctrl-C stops following, not the operation: say so, and how to come back or stop it.
  const onInterrupt = () => {
    live.clear();
    process.stderr.write(
      `\nday2: stopped following; the operation goes on on the worker.\n` +
        `  follow it again: day2 status ${handle.workflowId} --follow\n` +
        `  cancel it:       day2 cancel ${handle.workflowId}\n`,
    );
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  // Settles the moment the workflow closes, so following never waits out a poll interval.
  let closed = false;
  const closing = handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  try {
    for (;;) {
      const desc = await handle.describe();
      const progress = await queryProgress(handle);
      if (progress) {
        for (const step of progress.steps) {
          const key = `${step.status}|${step.detail ?? ''}`;
          if (step.status !== 'pending' && seen.get(step.name) !== key) {
            seen.set(step.name, key);
            // On a terminal the live line shows the running step; the record keeps outcomes.
            if (step.status === 'running' && live.enabled) continue;
            print(`  ${renderStep(step, new Date(), { brief: step.status === 'waiting' && !!progress.gate })}`);
          }
        }
        if (progress.gate && progress.gate.name !== lastGate) {
          lastGate = progress.gate.name;
          for (const line of renderGate(progress.gate, '    ')) print(line);
          if (!opts.throughGates) return { exitCode: EXIT.waiting, status: 'WAITING', progress };
        }
        if (!progress.gate) lastGate = undefined;
        if (progress.hostWait && progress.hostWait.since !== lastHostWait) print(renderHostWait(progress.hostWait, '    '));
        lastHostWait = progress.hostWait?.since;
        const running = progress.steps.find((s) => s.status === 'running' || s.status === 'waiting');
        if (running && live.enabled) {
          const transfer = await transferOf(handle, desc.raw.pendingActivities);
          live.show(`  ${renderStep(running, new Date(), { brief: true })} …${transfer ? ` ${transfer.text}` : ''}`);
        }
      }
      if (desc.status.name !== 'RUNNING') {
        live.clear();
        return finished(handle, desc.status.name, progress);
      }
      if (!closed) await Promise.race([closing, new Promise((r) => setTimeout(r, opts.pollMs ?? 400))]);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    live.clear();
  }
}

/** What a running dump or restore last heartbeated (bytes or items done, rate, time left). */
async function transferOf(
  handle: WorkflowHandle,
  pending: Array<{ heartbeatDetails?: { payloads?: unknown[] | null } | null }> | null | undefined,
): Promise<TransferProgress | undefined> {
  for (const activity of pending ?? []) {
    const payloads = activity.heartbeatDetails?.payloads;
    if (!payloads?.length) continue;
    try {
      const [details] = await decodeArrayFromPayloads(handle.client.options.loadedDataConverter, payloads as never);
      const transfer = asTransferProgress(details);
      if (transfer) return transfer;
    } catch {
      // undecodable details (another codec key?): show the step without them
    }
  }
  return undefined;
}

/** The progress, or undefined when no worker answers in time (none running yet). */
export async function queryProgress(handle: WorkflowHandle): Promise<Progress | undefined> {
  try {
    return await handle.client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery));
  } catch {
    return undefined;
  }
}

/** `progress` was queried after the describe that saw the workflow closed, so it is the
 * final one; only when that query got no answer is it asked again (a query of a closed
 * workflow replays its whole history on a worker: not twice for nothing). */
async function finished(handle: WorkflowHandle, status: string, progress?: Progress): Promise<FollowOutcome> {
  const final = progress ?? (await queryProgress(handle));
  if (status === 'CANCELLED') return { exitCode: EXIT.failed, status, progress: final, error: final?.outcome ?? 'cancelled' };
  try {
    const result = (await handle.result()) as { outcome?: string } | undefined;
    return { exitCode: exitCodeForOutcome(final?.operation, result?.outcome), status, progress: final, result };
  } catch (err) {
    const error = err instanceof WorkflowFailedError ? deepestMessage(err) : (err as Error).message;
    const exitCode = exitCodeOf(failureType(err));
    return { exitCode, status, progress: final, error };
  }
}

/** A workflow that completed may still report that it did not do what was asked: an
 * upgrade that ended rolled back (or failed) exits 1, a rejected gate exits 5. */
function exitCodeForOutcome(operation: string | undefined, outcome: string | undefined): number {
  if (outcome === 'rejected') return EXIT.rejected;
  if (outcome === 'failed') return EXIT.failed;
  if (operation === 'upgrade' && outcome === 'rolled-back') return EXIT.failed;
  // A fleet that stopped starting deployments did not do what was asked of it.
  if (operation === 'fleet' && outcome === 'halted') return EXIT.failed;
  // The local backup is good, but it has no off-site copy: never a silent success.
  if (operation === 'backup' && outcome === 'offsite-failed') return EXIT.failed;
  return EXIT.ok;
}

export async function printOutcome(ctx: CliContext, handle: WorkflowHandle, outcome: FollowOutcome): Promise<void> {
  const desc = await handle.describe();
  const link = ctx.uiLink(handle.workflowId, desc.runId);
  const took = desc.closeTime ? ` (took ${duration(desc.closeTime.getTime() - desc.startTime.getTime())})` : '';
  if (outcome.error) ctx.warn(`✗ ${outcome.status}: ${outcome.error}`);
  else if (outcome.status !== 'WAITING' && outcome.progress?.outcome) {
    // ✓ only when it did what was asked: a rejection or a rolled-back upgrade is not success.
    const mark = outcome.exitCode === EXIT.ok ? '✓' : '✗';
    ctx.say(`${mark} ${outcome.progress.outcome}${took}`);
  }
  ctx.say(`  Web UI: ${link}`);
  ctx.json({
    workflowId: handle.workflowId,
    runId: desc.runId,
    status: outcome.status,
    exitCode: outcome.exitCode,
    result: outcome.result,
    error: outcome.error,
    progress: outcome.progress,
    webUi: link,
  });
}

export async function describeAll(client: Client, query: string, limit = 20) {
  const rows = [];
  for await (const wf of client.workflow.list({ query })) {
    rows.push(wf);
    if (rows.length >= limit) break;
  }
  return rows;
}

export { renderProgress };
