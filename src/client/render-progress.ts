// Renders a workflow's progress for people (a checklist with elapsed times, the gate it
// waits at with the commands that decide it) — pure, so tests can snapshot it.
import { hostWaitText, type HostWait } from '../domain/hosts';
import type { CheckResult, GateState, Progress, Step } from '../domain/types';
import type { WorkflowRun } from './workflow-run';

const MARK: Record<Step['status'], string> = {
  pending: '[ ]',
  running: '[>]',
  waiting: '[?]',
  done: '[x]',
  skipped: '[-]',
  failed: '[!]',
};

export function duration(ms: number): string {
  const seconds = Math.max(0, ms / 1000);
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function elapsed(step: Step, now: Date): string {
  if (!step.startedAt) return '';
  const end = step.endedAt ? new Date(step.endedAt) : now;
  return duration(end.getTime() - new Date(step.startedAt).getTime());
}

export interface StepRenderOptions {
  /** Leave out the detail (a waiting step's detail is the gate's question, shown below it). */
  brief?: boolean;
}

export function renderStep(step: Step, now: Date, opts: StepRenderOptions = {}): string {
  const time = elapsed(step, now);
  // A running step's live line (how far its activity is) stands in for its detail.
  const text = (step.status === 'running' && step.live) || step.detail;
  const detail = text && !opts.brief ? ` — ${text}` : '';
  return `${MARK[step.status]} ${step.name}${time ? ` (${time})` : ''}${detail}`;
}

/** `  ✓ database reachable — ledger@db:5432: PostgreSQL 15.20, 7.5 MiB` */
export const renderCheck = (c: CheckResult, indent = '  '): string =>
  `${indent}${c.ok ? (c.warning ? '⚠' : '✓') : '✗'} ${c.name} — ${c.detail}`;

export const rejectCommand = (gate: GateState) => gate.approveCommand.replace(/^day2 approve /, 'day2 reject ');

/** The block under a waiting step: what is asked, how to answer, what happens on timeout. */
export function renderGate(gate: GateState, indent = '  '): string[] {
  return [
    `${indent}⏸ waiting at gate '${gate.name}': ${gate.question}`,
    `${indent}  approve: ${gate.approveCommand}`,
    `${indent}  reject:  ${rejectCommand(gate)}`,
    `${indent}  on timeout (${gate.timeoutAt}): ${gate.defaultOutcome}`,
  ];
}

/** `  ⚠ no day2 worker on host east has picked up this step since …` */
export const renderHostWait = (wait: HostWait, indent = '  ') => `${indent}⚠ ${hostWaitText(wait)}`;

/** The steps, the gate, a host nobody serves, the outcome: under the heading line. */
function progressLines(p: Progress, now: Date): string[] {
  const lines = p.steps.map((step) => `  ${renderStep(step, now, { brief: step.status === 'waiting' && !!p.gate })}`);
  if (p.hostWait) lines.push(renderHostWait(p.hostWait));
  if (p.gate) lines.push(...renderGate(p.gate));
  if (p.outcome) lines.push(`  outcome: ${p.outcome}`);
  return lines;
}

export function renderProgress(p: Progress, now = new Date()): string {
  return [`${p.operation} on ${p.deployment} (${p.workflowId})`, ...progressLines(p, now)].join('\n');
}

/** What `day2 status` prints above the steps. */
export interface WorkflowSummary extends WorkflowRun {
  /** Why it failed, for a closed workflow that did not complete. */
  error?: string;
}

export function renderStatus(w: WorkflowSummary, progress: Progress | undefined, now = new Date()): string {
  const took = w.closeTime
    ? `in ${duration(w.closeTime.getTime() - w.startTime.getTime())}`
    : `for ${duration(now.getTime() - w.startTime.getTime())}`;
  const what = progress ? `${progress.operation} on ${progress.deployment}` : w.type;
  const lines = [`${what} — ${w.status} ${took} (workflow ${w.workflowId}, run ${w.runId})`];
  if (progress) {
    lines.push(...progressLines(progress, now));
  } else if (w.status === 'RUNNING') {
    lines.push('  (no worker answered the progress query: is `day2 worker` running?)');
  }
  if (w.error) lines.push(`  error: ${w.error}`);
  return lines.join('\n');
}
