// Deciding a gate from the CLI (`day2 approve|reject`): the name is checked first (no such
// gate anywhere is bad input, exit 2), then that the workflow waits at it (else a refusal,
// exit 3, that says what it waits for and the command that would decide it).
import { WorkflowNotFoundError } from '@temporalio/common';
import { BadInputError } from '../domain/errors';
import { assertKnownGate, isDestructiveGate } from '../domain/gate-names';
import type { CheckResult, Progress } from '../domain/types';
import { canAsk, confirmed } from './confirm';
import type { CliContext } from './context';
import { queryProgress } from './follow';
import { whoDecides } from './operator-identity';
import { rejectCommand } from './render-progress';
import { resolveWorkflowId } from './resolve-target';
import { sendDecision } from './send-decision';
import { RefusedError } from './start-operation';

export interface DecideOptions {
  gate?: string;
  reason?: string;
  /** Approve a destructive gate without the y/N question. */
  yes?: boolean;
  by?: string;
  evidence?: CheckResult[];
}

/** "it waits at gate 'x' (question). To decide it: …", or the step it is at. */
function whatItWaitsFor(progress: Progress, approve: boolean): string {
  const gate = progress.gate;
  if (gate) {
    const command = approve ? gate.approveCommand : rejectCommand(gate);
    return `it waits at gate '${gate.name}': ${gate.question}\nTo decide that one: ${command}`;
  }
  const current = progress.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  return current ? `it is at step '${current.name}', not at a gate` : 'it waits at no gate';
}

export async function decideGate(ctx: CliContext, target: string, approve: boolean, opts: DecideOptions) {
  if (opts.gate) assertKnownGate(opts.gate); // no such gate anywhere: bad input (2), not a refusal (3)
  // Who decided and why is the audit trail: a decision without a why is not taken.
  if (!opts.reason?.trim()) {
    throw new BadInputError(
      `a reason is required to ${approve ? 'approve' : 'reject'} a gate`,
      `pass --reason "<why>" (kept in the workflow's history with who decided); nothing was sent`,
    );
  }
  const workflowId = resolveWorkflowId(ctx, target);
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new BadInputError(`no workflow '${workflowId}'`, '`day2 list` shows the operations');
    throw err;
  }
  if (status !== 'RUNNING') throw new RefusedError(`${workflowId} is ${status}: it waits at no gate`);
  const progress = await queryProgress(handle);
  if (!progress) throw new Error(`${workflowId}: no worker answered (is \`day2 worker\` running?)`);
  const gate = opts.gate ?? progress.gate?.name;
  if (!gate || gate !== progress.gate?.name) {
    throw new RefusedError(`${workflowId} is not waiting at ${gate ? `gate '${gate}'` : 'a gate'}; ${whatItWaitsFor(progress, approve)}`);
  }
  if (approve && isDestructiveGate(gate) && !opts.yes && !opts.gate && !canAsk()) {
    // Without a terminal to ask on, a destructive gate is approved only when named.
    throw new RefusedError(
      `${workflowId} waits at the destructive gate '${gate}': ${progress.gate!.question}\n` +
        `Not approved: name it to approve it without a terminal (--gate ${gate}), or pass --yes; nothing was sent`,
    );
  }
  if (approve && isDestructiveGate(gate) && !opts.yes && canAsk()) {
    // Named, with what it does: `day2 approve ledger` alone must not overwrite data unseen.
    process.stderr.write(`${workflowId} waits at gate '${gate}': ${progress.gate.question}\n`);
    if (!(await confirmed(`Approve gate '${gate}' of ${workflowId}? This cannot be undone.`))) {
      throw new RefusedError(`not approved (you answered no): nothing was sent; ${workflowId} still waits at gate '${gate}'`);
    }
  }
  const sent = await sendDecision(handle, {
    gate,
    approve,
    by: whoDecides(opts.by),
    reason: opts.reason.trim(),
    evidence: opts.evidence,
  });
  // Decided between our look and the update (by the approver, or another person).
  if ('refused' in sent) throw new RefusedError(`${workflowId}: ${sent.refused}`);
  return sent.decided;
}
