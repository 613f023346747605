// Runs the real `day2` CLI as a subprocess, as an operator would.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_ENTRY = path.join(repoRoot, 'src', 'client', 'main.ts');

/** How to start the CLI (and the worker): under scripts/test.ts the run's own build of
 * src/ (DAY2_TEST_CLI_BUNDLE, made once when the run starts, as `npm run build` makes
 * dist/cli.cjs), else the TypeScript source through tsx. The build starts in a fraction of
 * the CPU time: the suite starts the CLI and workers hundreds of times. */
export function cliEntryArgv(): [string, ...string[]] {
  const bundle = process.env.DAY2_TEST_CLI_BUNDLE;
  if (bundle) return [process.execPath, '--enable-source-maps', bundle];
  return [process.execPath, '--import', fileURLToPath(import.meta.resolve('tsx')), CLI_ENTRY];
}

/** The argv that runs the CLI, as runCli does: for a test that must start it its own way. */
export const cliArgv = (configFile: string, args: string[]): [string, ...string[]] => [...cliEntryArgv(), '--config', configFile, ...args];

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(configFile: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const [node, ...argv] = cliArgv(configFile, args);
  const r = await execa(node, argv, {
    reject: false,
    env: { DAY2_USER: 'test-operator', ...env },
    timeout: 300_000,
  });
  logCliRun(args, r.exitCode ?? 1, r.stdout, r.stderr);
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI on a pseudo-terminal (script(1)), `input` typed into it: for what it asks only a person. */
export async function runCliOnTerminal(configFile: string, args: string[], input: string): Promise<{ exitCode: number; stdout: string }> {
  const argv = cliArgv(configFile, args);
  const command = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = await execa('script', ['-qec', command, '/dev/null'], {
    input,
    reject: false,
    env: { DAY2_USER: 'test-operator' },
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout.replace(/\r/g, '') };
}

export interface SpawnedCli {
  child: ResultPromise;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Until the output matches `re` (30 s at most, then a failed assertion). */
  waitFor(re: RegExp): Promise<void>;
}

/** The CLI as a running process whose output a test watches as it comes (a long-running
 * `day2 approver`, a command that waits): the test can act at the right moment, or kill it. */
export function spawnCli(configFile: string, args: string[]): SpawnedCli {
  let output = '';
  const [node, ...argv] = cliArgv(configFile, args);
  const child = execa(node, argv, {
    reject: false,
    buffer: false,
    all: true,
    env: { DAY2_USER: 'test-operator' },
  });
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 600 && !re.test(output); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output, re);
  };
  return { child, output: () => output, waitFor };
}

/** Under scripts/test.ts every CLI run's output is kept for the secret scan. */
function logCliRun(args: string[], exitCode: number, stdout: string, stderr: string): void {
  const dir = process.env.DAY2_TEST_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, 'cli.log'), `$ day2 ${args.join(' ')}  → exit ${exitCode}\n${stdout}\n${stderr}\n`);
}
