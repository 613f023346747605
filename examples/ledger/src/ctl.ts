// The ledger's control CLI, day2's "commands runtime":
//   tsx examples/ledger/src/ctl.ts <command> --env-file <path> [options]
// Every command is idempotent; human lines go to stderr, machine output to stdout;
// exit 0 on success, 1 with a one-line reason on failure.
import { parseArgs } from 'node:util';
import { createKey, migrate, migrations, parseCount, rehashKeys, scan, seed } from './commands/database';
import { say } from './commands/output';
import { present, printVersion, pull } from './commands/releases';
import { parseServices, printStatus, startServices, stopServices } from './commands/services';
import { LedgerError, messageOf } from './errors';
import { openRunDir } from './run-dir';

const USAGE = `usage: ctl <command> --env-file <path> [options]
  start [--service api|worker|all]    start detached (no-op when running)
  stop [--service api|worker|all]     SIGTERM, SIGKILL after 10 s (no-op when stopped)
  status                              JSON: {"api":{"running","pid"},"worker":{...}}
  pull <version>                      fetch a release (fails on unknown or registry-down)
  present <version>                   exit 0 when the release was pulled before
  migrate <version>                   apply pending migrations: JSON {"applied":[ids]}
  migrations                          JSON {"release","applied","pending"}; exit 1 if any pending
  rehash-keys                         move API keys to the current secret: JSON {"rehashed","remaining"}
  scan [--keyring <file>]             verify the vault chain and signatures (exit 1 if broken)
  seed [--entries N]                  append N signed entries (default 20)
  create-key --name <name>            create an API key; prints only the key
  version                             print LEDGER_VERSION from the env file`;

const { values, positionals } = parseCommandLine();

async function run(): Promise<number | void> {
  const [command, argument] = positionals;
  const envFile = values['env-file'];
  if (command === undefined || command === 'help') return void say(USAGE);
  if (envFile === undefined) throw new LedgerError('--env-file <path> is required');
  const runDir = openRunDir(envFile);
  const needArgument = (what: string): string => {
    if (argument === undefined) throw new LedgerError(`${command} needs ${what}`);
    return argument;
  };
  switch (command) {
    case 'start':
      return startServices(runDir, envFile, parseServices(values.service));
    case 'stop':
      return stopServices(runDir, envFile, parseServices(values.service));
    case 'status':
      return printStatus(runDir, envFile);
    case 'pull':
      return pull(runDir, needArgument('a version'));
    case 'present':
      return present(runDir, needArgument('a version'));
    case 'migrate':
      return migrate(envFile, needArgument('a version'));
    case 'migrations':
      return migrations(envFile);
    case 'rehash-keys':
      return rehashKeys(envFile);
    case 'scan':
      return scan(envFile, values.keyring);
    case 'seed':
      return seed(envFile, parseCount(values.entries, 20));
    case 'create-key':
      if (values.name === undefined || values.name === '') throw new LedgerError('create-key needs --name <name>');
      return createKey(envFile, values.name);
    case 'version':
      return printVersion(envFile);
    default:
      throw new LedgerError(`unknown command ${command}\n${USAGE}`);
  }
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'env-file': { type: 'string' },
        service: { type: 'string' },
        keyring: { type: 'string' },
        entries: { type: 'string' },
        name: { type: 'string' },
      },
    });
  } catch (error) {
    say(`ctl: ${messageOf(error)}`);
    process.exit(1);
  }
}

run().then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (error: unknown) => {
    const prefix = error instanceof LedgerError ? '' : 'unexpected error: ';
    say(`ctl ${positionals[0] ?? ''}: ${prefix}${messageOf(error)}`);
    process.exitCode = 1;
  },
);
