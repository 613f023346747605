// The `day2` CLI: a thin shell over Temporal. Exit codes: 0 ok, 1 failed, 2 bad input
// (nothing touched), 3 refused (busy deployment, gate not waiting), 4 paused at a gate,
// 5 rejected at a gate, 6 Temporal unreachable.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { BadInputError, EXIT, TemporalUnreachableError } from '../domain/errors';
import { exitCodeOf, type FailureType } from '../domain/failures';
import { packageRootOf } from '../package-root';
import { bashCompletion, zshCompletion } from './completion';
import { registerApproverCommand } from './commands/approver';
import { registerBackupsCommand } from './commands/backups';
import { registerCleanupCommand } from './commands/cleanup';
import { registerCodecServerCommand } from './commands/codec-server';
import { registerConfigCommands } from './commands/config';
import { registerInitCommand } from './commands/init';
import { registerFleetCommands } from './commands/fleet';
import { registerGateCommands } from './commands/gates';
import { registerInspectCommands } from './commands/inspect';
import { registerOperationCommands } from './commands/operations';
import { registerDrillCommand } from './commands/drill';
import { registerPreflightCommand } from './commands/preflight';
import { registerProcessCommands } from './commands/processes';
import { registerRotateCommands } from './commands/rotate';
import { registerReleaseCommands } from './commands/releases';
import { registerScheduleCommands } from './commands/schedules';
import { registerSupportBundleCommand } from './commands/support-bundle';
import { CliContext, type GlobalOptions } from './context';
import { RefusedError } from './start-operation';

export function buildProgram(): { program: Command; close: () => Promise<void> } {
  const program = new Command('day2')
    .description('Durable day-2 operations (backup, restore, upgrade, rollback, secret rotation) on Temporal')
    .option('-c, --config <file>', 'day2.yaml (default: $DAY2_CONFIG or ./day2.yaml)')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'print only errors')
    // Not commander's .version(): a program-level --version would swallow `rollback --version X`.
    .addHelpText('after', '\n`day2 --version` (or -V) prints the version of day2.')
    .exitOverride();
  let ctx: CliContext | undefined;
  const context = () => (ctx ??= new CliContext(program.opts<GlobalOptions>()));
  registerProcessCommands(program, context);
  registerOperationCommands(program, context);
  registerBackupsCommand(program, context);
  registerPreflightCommand(program, context);
  registerDrillCommand(program, context);
  registerSupportBundleCommand(program, context);
  registerCleanupCommand(program, context);
  registerScheduleCommands(program, context);
  registerRotateCommands(program, context);
  registerReleaseCommands(program, context);
  registerFleetCommands(program, context);
  registerGateCommands(program, context);
  registerInspectCommands(program, context);
  registerApproverCommand(program, context);
  registerCodecServerCommand(program, context);
  registerConfigCommands(program);
  registerInitCommand(program);
  registerCompletionCommand(program);
  oneLineOfHelpAfterErrors(program);
  return { program, close: async () => ctx?.close() };
}

/** A usage error prints the error and where the usage is, not the whole help. */
function oneLineOfHelpAfterErrors(cmd: Command, path = 'day2'): void {
  cmd.showHelpAfterError(`(${path} --help shows the usage)`);
  for (const sub of cmd.commands) oneLineOfHelpAfterErrors(sub, `${path} ${sub.name()}`);
}

function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .addHelpText(
      'after',
      '\nExample:\n  day2 completion bash >> ~/.bashrc   # or: eval "$(day2 completion bash)"\n  day2 completion zsh > "${fpath[1]}/_day2"',
    )
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new BadInputError(`no completion for '${shell}'`, 'day2 completes in bash and zsh');
      process.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
}

function day2Version(): string {
  const file = path.join(packageRootOf(import.meta.url), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The CLI's own errors, by their failure type in the catalogue. */
const LOCAL_FAILURES: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, FailureType]> = [
  [TemporalUnreachableError, 'TemporalUnreachableError'],
  [BadInputError, 'BadInputError'],
  [ConfigError, 'ConfigError'],
  [RefusedError, 'RefusedError'],
];

function exitCodeFor(err: unknown): number {
  return exitCodeOf(LOCAL_FAILURES.find(([E]) => err instanceof E)?.[1]);
}

/** `day2 [global options] --version`: the first word after the global options only, so a
 * command's own --version (`day2 rollback --version 1.0.0`) stays the command's. */
function asksForVersion(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '--config') i++;
    else if (!(arg.startsWith('--config=') || arg === '--json' || arg === '-q' || arg === '--quiet'))
      return arg === '--version' || arg === '-V';
  }
  return false;
}

export async function main(argv: string[]): Promise<number> {
  if (asksForVersion(argv.slice(2))) {
    process.stdout.write(`${day2Version()}\n`);
    return 0;
  }
  const { program, close } = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.badInput;
    const code = exitCodeFor(err);
    // --json: the error is the document (stdout), and nothing is written to stderr.
    if (program.opts<GlobalOptions>().json)
      process.stdout.write(`${JSON.stringify({ error: (err as Error).message, exitCode: code }, null, 2)}\n`);
    else process.stderr.write(`day2: ${(err as Error).message}\n`);
    return code;
  } finally {
    await close().catch(() => {});
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  main(process.argv).then((code) => process.exit(code));
}
