// What a runtime (docker compose, or plain shell commands) must do for the runbooks, and
// the one place that spawns their processes. Adapters build commands; a CommandRunner runs
// them. Tests swap the runner for a recording one, so the compose argv is checked without
// a Docker engine.
import { activityCancellationSignal } from '../shared/activity-context';
import { execa } from 'execa';
import type { Logger } from '../../logger';
import { failureMessage, failureSummary, type KeptOutput, type OutputKeeper } from '../shared/failure-text';
import { beat } from '../shared/heartbeat';
import { redactCredentials } from '../../domain/mask-credentials';

export interface RuntimeAdapter {
  /** 'worker' before migrations; 'all' before a restore (a bundled database stays up). */
  stop(scope: 'all' | 'worker'): Promise<void>;
  /** Starts every service and waits until they are up. */
  start(): Promise<void>;
  /** Fetches release `version`; throws ReleaseUnavailableError when it cannot. */
  pull(version: string): Promise<void>;
  /** Whether release `version` is already available locally (the pull fallback). */
  isPresent(version: string): Promise<boolean>;
  /** Runs migrations with the release `version`, optionally as the owner role. */
  migrate(version: string, migrationUrl?: string): Promise<void>;
  /** Re-hashes stored API keys under the current secret. */
  rehashKeys(): Promise<void>;
  /** The running release as the runtime sees it, or null when it cannot tell. */
  currentVersion(): Promise<string | null>;
  /** The services' state as the runtime reports it, or null when it has no way to ask. */
  serviceState(): Promise<string | null>;
  /** The last `lines` log lines of each service it knows the logs of. */
  serviceLogs(lines: number): Promise<Record<string, string>>;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the inherited environment. Values are secrets as far as logging goes. */
  env?: Record<string, string>;
  /** Written to stdin (e.g. `docker login --password-stdin`): keeps secrets off argv. */
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A string is a shell command (configured by the operator); an array is an argv. */
export type Command = string | readonly string[];

/** Runs a command to completion and reports how it ended; it does not throw on exit codes.
 * `keepOutput`, when set, keeps the whole output of a command `runOrThrow` fails. */
export type CommandRunner = ((command: Command, opts: RunOptions) => Promise<RunResult>) & { keepOutput?: OutputKeeper };

/** `run`, keeping the whole output of failed commands with `keep`. */
export function keepingFailedOutput(run: CommandRunner, keep: OutputKeeper): CommandRunner {
  return Object.assign((command: Command, opts: RunOptions) => run(command, opts), { keepOutput: keep });
}

/** A command exited non-zero. The message shows the line that says what went wrong, then
 * the last lines it wrote, and names the file that keeps its whole output. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    readonly label: string,
    readonly exitCode: number,
    readonly outputTail: string,
    readonly kept?: Pick<KeptOutput, 'file' | 'problem'>,
  ) {
    super(failureMessage(`${label} failed (exit ${exitCode})`, outputTail, kept));
  }
}

/** The release cannot be fetched. Same name as the non-retryable failure type. */
export class ReleaseUnavailableError extends Error {
  override readonly name = 'ReleaseUnavailable';
}

export function commandLabel(command: Command): string {
  return typeof command === 'string' ? command : command.join(' ');
}

/** Runs `command` and throws CommandFailedError unless it exits 0. */
export async function runOrThrow(
  run: CommandRunner,
  command: Command,
  opts: RunOptions,
  label = commandLabel(command),
): Promise<RunResult> {
  const result = await run(command, opts);
  if (result.exitCode !== 0) {
    const kept = await run.keepOutput?.({ what: label, command: redactCredentials(commandLabel(command)), ...result });
    throw new CommandFailedError(
      label,
      result.exitCode,
      outputTail(result, kept?.mask),
      kept && { file: kept.file, problem: kept.problem },
    );
  }
  return result;
}

/** What a failed command wrote (stderr, else stdout): the error line first, then the last
 * lines; credentials masked (and whatever else `mask` masks), bounded in length. */
export function outputTail(result: Pick<RunResult, 'stdout' | 'stderr'>, mask: (text: string) => string = redactCredentials): string {
  return failureSummary(result, mask);
}

/** Shell-quotes a value unless it is made of characters no shell treats specially. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9._+:@/=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The real runner: execa, output captured and logged line by line. Only the command and
 * its output are logged — never `opts.env` (it carries database URLs) nor `opts.input`. */
export function execaRunner(logger: Logger): CommandRunner {
  return async (command, opts) => {
    const label = commandLabel(command);
    const log = logger.child({ command: label });
    log.info('running');
    const logLine = (level: 'debug' | 'info') =>
      function* (line: unknown) {
        log[level](redactCredentials(String(line)));
        beat(); // a long pull or migration keeps the activity alive
        yield line;
      };
    const options = {
      cwd: opts.cwd,
      env: opts.env,
      // No input: stdin is closed, so a command that prompts fails instead of hanging.
      ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }),
      timeout: opts.timeoutMs,
      cancelSignal: activityCancellationSignal(),
      reject: false,
      stdout: [logLine('debug')],
      stderr: [logLine('info')],
    } as const;
    const started = Date.now();
    const result =
      typeof command === 'string'
        ? await execa(command, { ...options, shell: true })
        : await execa(command[0] ?? '', command.slice(1), options);
    const stdout = String(result.stdout ?? '');
    let stderr = String(result.stderr ?? '');
    // A command that could not be spawned (ENOENT) or was killed has no exit code.
    let exitCode = result.exitCode ?? 127;
    if (result.timedOut) {
      exitCode = 124;
      stderr += `\ntimed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`;
    } else if (result.exitCode === undefined) {
      stderr += `\n${result.shortMessage}`;
    }
    log.info({ exitCode, ms: Date.now() - started }, exitCode === 0 ? 'done' : 'failed');
    return { exitCode, stdout, stderr };
  };
}
