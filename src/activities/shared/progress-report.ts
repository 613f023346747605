// How far a long activity is, where a person looks: the workflow's running step and the
// Web UI's current details, not only the pending activity's heartbeat. A workflow cannot
// read heartbeats, so the activity signals its own workflow (activityProgressSignal) with
// one line of text. Every signal is an event in the workflow's history: none is sent in an
// activity's first 5 s (short activities add nothing), then one at most every 2 s, every
// elapsed/20 as it goes on, and every 30 s after 10 min — a one-hour dump adds ≈ 180.
import type { Context } from '@temporalio/activity';
import { activityProgressSignal } from '../../domain/messages';
import { elapsedOfLimit } from '../../domain/transfer-progress';
import { currentActivity } from './activity-context';

const FIRST_AFTER_MS = 5_000;
const MIN_INTERVAL_MS = 2_000;
const MAX_INTERVAL_MS = 30_000;
const TICK_MS = 1_000;

/** The pause before the next signal, `elapsedMs` into the activity. */
export function reportInterval(elapsedMs: number): number {
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, elapsedMs / 20));
}

class ProgressReporter {
  private readonly started = Date.now();
  private own?: string;
  private sent?: string;
  private sentAt = 0;
  private sending = false;

  constructor(private readonly ctx: Context) {}

  set(text: string): void {
    this.own = text;
  }

  tick(now = Date.now()): void {
    const elapsed = now - this.started;
    if (elapsed < FIRST_AFTER_MS || this.sending || now - this.sentAt < reportInterval(elapsed)) return;
    const text = this.own ?? elapsedOfLimit(elapsed, this.ctx.info.startToCloseTimeoutMs);
    if (text === this.sent) return;
    this.send(text, now);
  }

  private send(text: string, now: number): void {
    const run = this.ctx.info.workflowExecution;
    if (!run) return;
    this.sending = true;
    this.sent = text;
    this.sentAt = now;
    // Fire and forget: progress must never fail, nor slow, the work it reports on.
    void Promise.resolve()
      .then(() =>
        this.ctx.client.workflow
          .getHandle(run.workflowId, run.runId)
          .signal(activityProgressSignal, { activityType: this.ctx.info.activityType, text }),
      )
      .catch((err: Error) => this.ctx.log.debug('progress signal not sent', { error: err.message }))
      .finally(() => (this.sending = false));
  }
}

const reporters = new WeakMap<Context, ProgressReporter>();

/** Runs `fn` (an activity) with progress signalled to its workflow while it runs: the last
 * line given to reportProgress, else how long it has run of its limit. Outside an
 * activity (unit tests, benches) it only runs `fn`. */
export async function withProgressReports<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = currentActivity();
  if (!ctx || ctx.info.isLocal) return fn();
  const reporter = new ProgressReporter(ctx);
  reporters.set(ctx, reporter);
  const timer = setInterval(() => reporter.tick(), TICK_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    reporters.delete(ctx);
  }
}

/** The line the running activity's progress signals carry from now on. */
export function reportProgress(text: string): void {
  const ctx = currentActivity();
  if (ctx) reporters.get(ctx)?.set(text);
}
