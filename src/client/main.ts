// The `day2` CLI: a thin shell over Temporal. Exit codes: 0 ok, 1 failed, 2 bad input
// (nothing touched), 3 refused (busy deployment, gate not waiting), 4 paused at a gate,
// 5 rejected at a gate.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { BadInputError, EXIT } from '../domain/errors';
import { registerApproverCommand } from './commands/approver';
import { registerBackupsCommand } from './commands/backups';
import { registerCleanupCommand } from './commands/cleanup';
import { registerCodecServerCommand } from './commands/codec-server';
import { registerConfigCommands } from './commands/config';
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
    .exitOverride()
    .showHelpAfterError();
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
  registerGateCommands(program, context);
  registerInspectCommands(program, context);
  registerApproverCommand(program, context);
  registerCodecServerCommand(program, context);
  registerConfigCommands(program);
  return { program, close: async () => ctx?.close() };
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof BadInputError || err instanceof ConfigError) return EXIT.badInput;
  if (err instanceof RefusedError) return EXIT.refused;
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  const { program, close } = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.badInput;
    process.stderr.write(`day2: ${(err as Error).message}\n`);
    return exitCodeFor(err);
  } finally {
    await close().catch(() => {});
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  main(process.argv).then((code) => process.exit(code));
}
