// `day2 approve` / `day2 reject`: a Workflow Update whose validator refuses at once when
// the workflow is not waiting at that gate, so the person learns it immediately — and is
// told what the workflow does wait for, and the command that would decide it.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Command } from 'commander';
import { BadInputError } from '../../domain/errors';
import { assertKnownGate } from '../../domain/gate-names';
import { decideUpdate } from '../../domain/messages';
import type { CheckResult, Progress } from '../../domain/types';
import type { CliContext } from '../context';
import { queryProgress } from '../follow';
import { whoDecides } from '../operator-identity';
import { rejectCommand } from '../render-progress';
import { resolveWorkflowId } from '../resolve-target';
import { RefusedError } from '../start-operation';

export interface DecideOptions {
  gate?: string;
  reason?: string;
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
  const decision = {
    gate,
    approve,
    by: whoDecides(opts.by),
    reason: opts.reason ?? (approve ? 'approved from the CLI' : 'rejected from the CLI'),
    evidence: opts.evidence,
  };
  try {
    return await handle.executeUpdate(decideUpdate, { args: [decision] });
  } catch (err) {
    // Decided between our look and the update (by the approver, or another person).
    if (err instanceof WorkflowUpdateFailedError) throw new RefusedError(`${workflowId}: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export function registerGateCommands(program: Command, context: () => CliContext): void {
  for (const approve of [true, false]) {
    const verb = approve ? 'approve' : 'reject';
    program
      .command(`${verb} <target>`)
      .description(
        `${verb} the gate an operation waits at (target: a workflow id or a deployment); recorded in its history with who ` +
          `and why. Refused (exit 3) when it does not wait at that gate, naming what it waits for`,
      )
      .option('-g, --gate <name>', 'the gate (default: the one it waits at); refused if it waits elsewhere')
      .option('-r, --reason <text>', 'why (kept in the audit trail)')
      .option('--by <name>', 'who decides (default: $DAY2_USER, else your OS user name)')
      .addHelpText('after', `\nExample:\n  day2 ${verb} day2-ledger --gate confirm-restore --reason "checked with the team"\n  day2 ${verb} ledger --reason "incident 42"`)
      .action(async (target: string, opts: DecideOptions) => {
        const ctx = context();
        const result = await decideGate(ctx, target, approve, opts);
        ctx.say(`${result.outcome} gate '${result.gate}' of ${resolveWorkflowId(ctx, target)}`);
        ctx.json(result);
      });
  }
}
