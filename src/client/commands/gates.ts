// `day2 approve` / `day2 reject`: a Workflow Update whose validator refuses at once when
// the workflow is not waiting at that gate, so the person learns it immediately — and is
// told what the workflow does wait for, and the command that would decide it.
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { decideGate, type DecideOptions } from '../decide-gate';
import { resolveWorkflowId } from '../resolve-target';

export function registerGateCommands(program: Command, context: () => CliContext): void {
  for (const approve of [true, false]) {
    const verb = approve ? 'approve' : 'reject';
    const command = program
      .command(`${verb} <target>`)
      .description(
        `${verb} the gate an operation waits at (target: a workflow id or a deployment); recorded in its history with who ` +
          `and why (--reason is required). Refused (exit 3) when it does not wait at that gate, naming what it waits for` +
          (approve ? '. A destructive gate (confirm-restore, confirm-rollback, …) asks y/N on a terminal first' : ''),
      )
      .option('-g, --gate <name>', 'the gate (default: the one it waits at); refused if it waits elsewhere')
      .option('-r, --reason <text>', 'why (required; kept in the audit trail)')
      .option('--by <name>', 'who decides (default: $DAY2_USER, else your OS user name)')
      .addHelpText(
        'after',
        `\nExample:\n  day2 ${verb} day2-ledger --gate confirm-restore --reason "checked with the team"\n  day2 ${verb} ledger --reason "incident 42"`,
      );
    // Rejecting changes nothing, so it never asks.
    if (approve) command.option('-y, --yes', 'approve a destructive gate without the y/N question a terminal gets');
    command.action(async (target: string, opts: DecideOptions) => {
      const ctx = context();
      const result = await decideGate(ctx, target, approve, opts);
      ctx.say(`${result.outcome} gate '${result.gate}' of ${resolveWorkflowId(ctx, target)}`);
      ctx.json(result);
    });
  }
}
