// Step tracking: what the `progress` query returns, what the Web UI shows as the
// workflow's current details, and the search attributes that let people filter.
import { isCancellation, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { hostWaitText } from '../domain/hosts';
import { activityProgressSignal, progressQuery } from '../domain/messages';
import { WAITING_GATE } from '../domain/search-attributes';
import type { CheckResult, GateState, Operation, Progress, Step, StepStatus } from '../domain/types';
import { onHostWait } from './host-wait';

const ICON: Record<StepStatus, string> = {
  pending: '☐',
  running: '▶',
  // ⚑ rather than ⏸: the Web UI shows these in the browser's fonts, and ⏸ is missing from
  // common ones (DejaVu) — it would render as an empty box.
  waiting: '⚑',
  done: '☑',
  skipped: '⤼',
  failed: '✗',
};

export class ProgressTracker {
  private readonly state: Progress;

  constructor(operation: Operation, deployment: string, stepNames: string[]) {
    this.state = {
      workflowId: workflowInfo().workflowId,
      operation,
      deployment,
      steps: stepNames.map((name) => ({ name, status: 'pending' })),
    };
    setHandler(progressQuery, () => this.state);
    // A long activity's own line (src/activities/shared/progress-report.ts): it goes with the
    // step that runs it. Issues no command (details and query state only), so histories with
    // these signals and without them replay alike.
    setHandler(activityProgressSignal, ({ text }) => {
      const step = [...this.state.steps].reverse().find((s) => s.status === 'running');
      if (!step || step.live === text) return;
      step.live = text;
      this.publish();
    });
    this.publish();
    onHostWait((wait) => {
      if (wait === this.state.hostWait) return;
      if (wait) this.state.hostWait = wait;
      else delete this.state.hostWait;
      this.publish();
    });
  }

  get snapshot(): Progress {
    return this.state;
  }

  /** Runs `fn` as step `name`, marking it running, then done or failed. */
  async step<T>(name: string, fn: () => Promise<T>, describe?: (result: T) => string | undefined): Promise<T> {
    this.mark(name, 'running');
    try {
      const result = await fn();
      this.mark(name, 'done', describe?.(result));
      return result;
    } catch (err) {
      this.mark(name, 'failed', isCancellation(err) ? 'cancelled' : errorMessage(err));
      throw err;
    }
  }

  mark(name: string, status: StepStatus, detail?: string): void {
    const step = this.find(name);
    const now = new Date().toISOString();
    if (status === 'running' || status === 'waiting') step.startedAt ??= now;
    if (status === 'done' || status === 'failed' || status === 'skipped') step.endedAt = now;
    step.status = status;
    if (status !== 'running') delete step.live;
    if (detail !== undefined) step.detail = detail;
    this.publish();
  }

  /** Ends step `name` with a count of passed checks and lists each check as a line of its
   * own below it (the Web UI checklist); returns the failed ones. */
  showChecks(name: string, checks: readonly CheckResult[]): CheckResult[] {
    const failed = checks.filter((c) => !c.ok);
    this.mark(name, failed.length ? 'failed' : 'done', `${checks.length - failed.length} of ${checks.length} checks passed`);
    for (const check of checks) this.mark(check.name, check.ok ? 'done' : 'failed', check.detail);
    return failed;
  }

  /** A step known only at run time, listed where it runs (after `after`) rather than at the end. */
  insertAfter(after: string, name: string): void {
    if (this.state.steps.some((s) => s.name === name)) return;
    const at = this.state.steps.findIndex((s) => s.name === after);
    this.state.steps.splice(at < 0 ? this.state.steps.length : at + 1, 0, { name, status: 'pending' });
    this.publish();
  }

  skip(name: string, detail: string): void {
    this.mark(name, 'skipped', detail);
  }

  setGate(gate: GateState | undefined): void {
    this.state.gate = gate;
    upsertSearchAttributes([{ key: WAITING_GATE, value: gate?.name ?? '' }]);
    this.publish();
  }

  finish(outcome: string): void {
    this.state.outcome = outcome;
    for (const step of this.state.steps) if (step.status === 'pending') step.status = 'skipped';
    this.publish();
  }

  private find(name: string): Step {
    let step = this.state.steps.find((s) => s.name === name);
    if (!step) {
      // Steps discovered at run time (e.g. a rollback after a failed upgrade) are appended.
      step = { name, status: 'pending' };
      this.state.steps.push(step);
    }
    return step;
  }

  /** The Web UI's "current details": a checklist, and at a gate the commands that decide it.
   * The UI renders Markdown, where a lone newline is only a space: lines end in a hard
   * break ("  \n"). A waiting step's detail is the gate's question, shown once, below. */
  private publish(): void {
    const { operation, deployment, steps, gate, outcome, hostWait } = this.state;
    const checklist = steps.map((s) => {
      const text = (s.status === 'running' && s.live) || s.detail;
      const detail = text && !(gate && s.status === 'waiting') ? ` — ${text}` : '';
      return `${ICON[s.status]} ${s.name}${detail}`;
    });
    const blocks = [`**day2 ${operation}** on \`${deployment}\``, checklist.join('  \n')];
    if (hostWait) blocks.push(`**Waiting for a worker**: ${hostWaitText(hostWait)}`);
    if (gate) {
      const reject = gate.approveCommand.replace(/^day2 approve /, 'day2 reject ');
      blocks.push(
        [
          `**Waiting at gate \`${gate.name}\`**: ${gate.question}`,
          `Approve: \`${gate.approveCommand}\``,
          `Reject: \`${reject}\``,
          `On timeout (${gate.timeoutAt}): ${gate.defaultOutcome}`,
        ].join('  \n'),
      );
    }
    if (outcome) blocks.push(`**Outcome**: ${outcome}`);
    // The Web UI (2.42) sizes the frame it renders this in by the body's height without
    // its margins, about one line short: an empty last paragraph (a no-break space; it
    // escapes HTML entities) is what gets cut off.
    blocks.push('\u00a0');
    setCurrentDetails(blocks.join('\n\n'));
  }
}

export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    // ActivityFailure wraps the activity's ApplicationFailure: the cause says what happened.
    const cause = (err as { cause?: { message?: string } }).cause;
    if (cause?.message) return cause.message;
    const message = (err as { message?: string }).message;
    if (message) return message;
  }
  return String(err);
}
