// `day2 fleet upgrade|backup|rotate|preflight|status`: one operation over many deployments,
// as the fleet workflow (src/workflows/fleet.ts) with canaries, waves and an error budget.
import { InvalidArgumentError, type Command } from 'commander';
import { BadInputError } from '../../domain/errors';
import {
  fleetStatusQuery,
  parseBudget,
  parseLabelSelector,
  selectFleet,
  type FleetInput,
  type FleetOperation,
  type FleetSelector,
  type FleetStatus,
} from '../../domain/fleet';
import { parseAge } from '../../domain/kept-copy-names';
import { FLEET } from '../../domain/search-attributes';
import { assertVersion } from '../../domain/version';
import { fleetWorkflowId } from '../../domain/workflow-ids';
import type { fleet } from '../../workflows/fleet';
import type { CliContext } from '../context';
import { follow, printOutcome } from '../follow';
import { assertHostsServed, hostWaitMemo } from '../host-workers';
import { duration } from '../render-progress';

interface FleetOptions {
  deployments?: string;
  match?: string;
  selector?: string;
  all?: boolean;
  canary: number;
  soak?: number;
  promoteTimeout: number;
  maxConcurrency: string;
  maxErrors: string;
  ifBusy: 'wait' | 'skip';
  busyWait: number;
  detach?: boolean;
}

const count = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`'${v}' is not a whole number`);
  return Number(v);
};
const age = (v: string) => {
  const s = /^\d+$/.test(v) ? Number(v) : parseAge(v);
  if (s === undefined)
    throw new InvalidArgumentError(`'${v}' is not a duration: give seconds, or minutes, hours or days: 600, 10m, 2h, 1d`);
  return s;
};
const ifBusy = (v: string) => {
  if (v !== 'wait' && v !== 'skip') throw new InvalidArgumentError(`'${v}' is neither wait nor skip`);
  return v;
};

function selectorOf(opts: FleetOptions): FleetSelector {
  return {
    deployments: opts.deployments
      ?.split(',')
      .map((d) => d.trim())
      .filter(Boolean),
    match: opts.match,
    labels: opts.selector ? parseLabelSelector(opts.selector) : undefined,
    all: opts.all,
  };
}

async function startFleet(ctx: CliContext, operation: FleetOperation, opts: FleetOptions, version?: string): Promise<number> {
  const members = selectFleet(
    Object.entries(ctx.config.deployments).map(([name, d]) => ({ name, host: d.host, labels: d.labels })),
    selectorOf(opts),
  );
  const maxConcurrency = parseBudget(opts.maxConcurrency, '--max-concurrency');
  const maxErrors = parseBudget(opts.maxErrors, '--max-errors');
  if (opts.canary >= members.length && members.length > 1) {
    throw new BadInputError(`--canary ${opts.canary} leaves nothing to promote to: ${members.length} deployment(s) selected`);
  }
  // Every host of the selection needs its worker before anything starts (exit 3 otherwise).
  await assertHostsServed(
    ctx,
    members.map((m) => m.name),
  );
  const id = fleetWorkflowId(operation, new Date());
  const input: FleetInput = {
    fleetId: id,
    operation,
    version,
    members: members.map(({ name, host }) => {
      const b = ctx.config.deployments[name]!.backup;
      return { name, host, ...(b.method === 'pgbackrest' && b.pgbackrest ? { pgbackrest: { type: b.pgbackrest.type } } : {}) };
    }),
    canary: opts.canary,
    soakSeconds: opts.soak ?? 0,
    promoteTimeoutSeconds: opts.promoteTimeout,
    maxConcurrency,
    maxErrors,
    ifBusy: opts.ifBusy,
    busyWaitSeconds: opts.busyWait,
  };
  const client = await ctx.client();
  const handle = await client.workflow.start<typeof fleet>('fleet', {
    workflowId: id,
    taskQueue: ctx.config.temporal.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: FLEET, value: id }],
    memo: hostWaitMemo(ctx),
    staticSummary: `day2 fleet ${operation}${version ? ` → ${version}` : ''} on ${members.length} deployments`,
  });
  ctx.say(`started fleet ${operation} on ${members.length} deployment(s): ${id}`);
  ctx.say(`  Web UI: ${ctx.uiLink(id, handle.firstExecutionRunId)}  (its children: Day2Fleet = "${id}")`);
  if (opts.detach) {
    ctx.json({ workflowId: id, runId: handle.firstExecutionRunId, status: 'STARTED' });
    return 0;
  }
  // Through the promote gate: the automated approver or a person (day2 approve, printed
  // above) decides it while the table builds up here.
  const outcome = await follow(ctx, handle, { throughGates: true });
  await printOutcome(ctx, handle, outcome);
  const result = outcome.result as FleetStatus | undefined;
  if (result) printTable(ctx, result);
  return outcome.exitCode;
}

function printTable(ctx: CliContext, s: FleetStatus): void {
  const rows = s.rows.map((r) => [
    r.deployment,
    r.host,
    s.canary && r.wave === 0 ? 'canary' : String(s.canary ? r.wave : r.wave + 1),
    r.state,
    s.version ?? '',
    r.startedAt && r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : '',
  ]);
  const head = ['DEPLOYMENT', 'HOST', 'WAVE', 'STATE', 'VERSION', 'TIME'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [head, ...rows])
    ctx.say(
      line
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  for (const r of s.rows.filter((x) => x.detail && x.state !== 'succeeded')) ctx.say(`  ${r.deployment}: ${r.detail}`);
  if (s.halted) ctx.say(`halted: ${s.halted}`);
}

function fleetCommand(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--deployments <a,b,c>', 'these deployments')
    .option('--match <glob>', "deployments whose name matches, e.g. 'ledger-*'")
    .option('--selector <key=value,…>', 'deployments whose day2.yaml labels hold every pair')
    .option('--all', 'every configured deployment')
    .option('--canary <n>', 'run on the first n first, then wait at the promote-fleet gate', count, 0)
    .option('--soak <duration>', "with --canary: run the canaries' verify checks this long before the gate (10m, 1h)", age)
    .option(
      '--promote-timeout <duration>',
      'how long the promote-fleet gate waits before rejecting, in seconds or 10m, 2h, 1d',
      age,
      24 * 3600,
    )
    .option('--max-concurrency <n|p%>', 'deployments per wave', '1')
    .option('--max-errors <n|p%>', 'failures the fleet tolerates before it halts (0: the first halts it)', '0')
    .option('--if-busy <wait|skip>', 'a deployment another operation holds: wait for it or skip it', ifBusy, 'wait')
    .option('--busy-wait <duration>', 'with --if-busy wait: how long to wait before skipping it, in seconds or 10m, 2h, 1d', age, 3600)
    .option('--detach', 'return once started');
}

export function registerFleetCommands(program: Command, context: () => CliContext): void {
  const fleetCmd = program.command('fleet').description('run an operation over many deployments: canaries, waves, an error budget');
  fleetCommand(fleetCmd, 'upgrade <version>', 'upgrade the selected deployments; a failed one is rolled back by its own workflow')
    .addHelpText(
      'after',
      "\nExample:\n  day2 fleet upgrade 1.4.0 --match 'ledger-*' --canary 1 --soak 10m --max-concurrency 3 --max-errors 0",
    )
    .action(async (version: string, opts: FleetOptions) => {
      process.exitCode = await startFleet(context(), 'upgrade', opts, assertVersion(version));
    });
  fleetCommand(fleetCmd, 'backup', 'back up the selected deployments')
    .addHelpText('after', '\nExample:\n  day2 fleet backup --all --max-concurrency 10 --max-errors 10%')
    .action(async (opts: FleetOptions) => {
      process.exitCode = await startFleet(context(), 'backup', opts);
    });
  fleetCommand(fleetCmd, 'preflight', 'run preflight on the selected deployments')
    .addHelpText('after', '\nExample:\n  day2 fleet preflight --selector tier=gold --max-concurrency 25%')
    .action(async (opts: FleetOptions) => {
      process.exitCode = await startFleet(context(), 'preflight', opts);
    });
  const rotate = fleetCmd.command('rotate').description('rotate a secret across deployments');
  fleetCommand(rotate, 'api-key-secret', "rotate the selected deployments' API-key secrets (dual-secret, each with its own gates)")
    .addHelpText('after', "\nExample:\n  day2 fleet rotate api-key-secret --match 'ledger-*' --canary 1 --max-concurrency 2")
    .action(async (opts: FleetOptions) => {
      process.exitCode = await startFleet(context(), 'rotate-api-key-secret', opts);
    });
  fleetCmd
    .command('status [fleet-id]')
    .description('the table of a fleet (default: the newest): deployment, host, wave, state, version, time')
    .addHelpText('after', '\nExample:\n  day2 fleet status\n  day2 fleet status day2-fleet-upgrade-20261202T062119806')
    .action(async (id: string | undefined) => {
      const ctx = context();
      const client = await ctx.client();
      if (!id) {
        for await (const wf of client.workflow.list({ query: `WorkflowType = 'fleet'` })) {
          id = wf.workflowId;
          break;
        }
        if (!id) throw new BadInputError('no fleet has run on this Temporal namespace', 'start one: day2 fleet backup --all');
      }
      const handle = client.workflow.getHandle(id);
      const [desc, s] = await Promise.all([handle.describe(), handle.query(fleetStatusQuery)]);
      ctx.say(`fleet ${s.operation}${s.version ? ` → ${s.version}` : ''} ${id}: ${desc.status.name}${s.summary ? ` — ${s.summary}` : ''}`);
      printTable(ctx, s);
      ctx.json({ workflowId: id, status: desc.status.name, fleet: s });
    });
}
