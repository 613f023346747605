// One approver event as the lines a person reads in a terminal or a log file.
import { renderCheck } from '../client/render-progress';
import type { Logger } from '../logger';
import type { ApproverEvent } from './approver';

const MARK: Record<ApproverEvent['kind'], string> = {
  checking: '…',
  approved: '✓',
  rejected: '✗',
  left: '⏸',
  noop: '·',
  error: '!',
};

export function formatApproverEvent(e: ApproverEvent, at = new Date()): string {
  const where = e.workflowId ? `${e.workflowId} gate '${e.gate}'` : 'approver';
  const lines = [`${at.toISOString()} ${MARK[e.kind]} ${e.kind.padEnd(8)} ${where}: ${e.message}`];
  for (const r of e.evidence ?? []) lines.push(renderCheck(r, '    '));
  return lines.join('\n');
}

/** For a process that logs JSON (the worker): one structured line per event. */
export function logApproverEvent(logger: Logger): (e: ApproverEvent) => void {
  return (e) => {
    const fields = { kind: e.kind, workflowId: e.workflowId, deployment: e.deployment, gate: e.gate, evidence: e.evidence };
    if (e.kind === 'error') logger.warn(fields, e.message);
    else logger.info(fields, e.message);
  };
}

/** For a script that runs the approver beside it (the demo): each event as readable lines. */
export function printApproverEvent(write: (text: string) => void = (t) => process.stdout.write(t)): (e: ApproverEvent) => void {
  return (e) => write(`${formatApproverEvent(e)}\n`);
}
