// `day2 approver`: the automated approver as a long-running process (or one pass with
// --once). Events are printed one per line; with --json, one JSON object per line.
import { InvalidArgumentError, type Command } from 'commander';
import type { ApproverEvent } from '../../approver/approver';
import { formatApproverEvent } from '../../approver/format-event';
import { EXIT } from '../../domain/errors';
import type { CliContext } from '../context';

interface ApproverCliOptions {
  once?: boolean;
  interval: number;
  identity?: string;
}

export function registerApproverCommand(program: Command, context: () => CliContext): void {
  program
    .command('approver')
    .description(
      "decide gates automatically: run each waiting gate's checks from day2.yaml and approve, reject or leave it " +
        'to a person per its policy (auto, auto-approve-only, manual); the evidence is recorded in history',
    )
    .option('--once', 'look once, decide what can be decided, then exit')
    .option('-i, --interval <seconds>', 'seconds between looks', parseSeconds, 5)
    .option('--identity <name>', 'recorded as who decided (default: day2-approver@<this host>)')
    .addHelpText(
      'after',
      [
        '',
        'Example:',
        '  day2 approver --interval 10        # runs until Ctrl-C / SIGTERM',
        '  day2 approver --once --json        # one pass, one JSON object per decision',
        '',
        'day2.yaml, per deployment:',
        '  gates:',
        '    confirm-restore:',
        '      policy: auto-approve-only',
        '      stableRuns: 3',
        '      stableIntervalSeconds: 10',
        '      checks:',
        '        - { kind: http, name: ready, url: "http://127.0.0.1:8080/health/ready" }',
      ].join('\n'),
    )
    .action(async (opts: ApproverCliOptions) => {
      const ctx = context();
      // Loaded on use: the approver runs checks (pg, execa) no other command needs at start-up.
      const { Approver, approverIdentity, connectApproverClient } = await import('../../approver/approver');
      const identity = opts.identity ?? approverIdentity();
      const client = await connectApproverClient(ctx.config, identity);
      let errors = 0;
      const onEvent = (e: ApproverEvent) => {
        if (e.kind === 'error') errors++;
        if (ctx.options.json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...e })}\n`);
        else if (!ctx.options.quiet || e.kind === 'error') process.stdout.write(`${formatApproverEvent(e)}\n`);
      };
      const approver = new Approver({ client, config: ctx.config, identity, onEvent });
      const deployments = Object.keys(ctx.config.deployments).join(', ');
      try {
        if (opts.once) {
          await approver.runOnce();
          process.exitCode = errors ? EXIT.failed : EXIT.ok;
          return;
        }
        ctx.say(`day2 approver ${identity} watching ${deployments} every ${opts.interval} s (Ctrl-C to stop)`);
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await approver.run(abort.signal, opts.interval * 1000);
        ctx.say('day2 approver stopped');
      } finally {
        await client.connection.close();
      }
    });
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number of seconds`);
  return n;
}
