// Runs pg_dump / pg_restore for an activity: the password travels in PGPASSWORD, never
// on argv; the activity heartbeats while the program runs; a cancelled activity kills
// the program; a failure becomes an error that names the database, not the URL, and
// shows the line that says what went wrong.
import { activityCancellationSignal } from './activity-context';
import { execa, type ResultPromise } from 'execa';
import { failureMessage, failureSummary, type OutputKeeper } from './failure-text';
import { withHeartbeat } from './heartbeat';
import { redactCredentials } from '../../domain/mask-credentials';
import { libpqArgs, programUrl, type DatabaseExec } from './pg-connection';
import { execArgv, serviceAdvice, type ComposeExec } from './compose-database';
import { DatabaseUnreachableError } from '../../domain/errors';
import { pgTool, pgToolMajor, type PgTool } from '../../lib/pg-tools';

export interface PgProgramRun {
  tool: Extract<PgTool, 'pg_dump' | 'pg_restore'>;
  args: string[];
  /** Where to connect: passed as `--dbname=<url without password>`. */
  url?: string;
  /** `dump of ledger@db:5432`: used in error messages. */
  what: string;
  /** Keeps the whole output of a failure (the message names the file). */
  keepOutput?: OutputKeeper;
  /** Heartbeat details, asked for every second while the program runs (progress). */
  progress?: () => unknown;
  /** Sees stderr as it comes (pg_restore --verbose names each item it finishes). */
  onStderr?: (text: string) => void;
  /** Run inside the compose database service (runtime.databaseVia exec), not on this host. */
  exec?: DatabaseExec;
  /** A file streamed into the program's stdin (an archive, for pg_restore in compose). */
  stdinFile?: string;
  /** A file the program's stdout is written into (pg_dump in compose); it must exist
   * already (its mode is kept). */
  stdoutFile?: string;
}

export async function runPgProgram(run: PgProgramRun): Promise<{ stdout: string; stderr: string }> {
  const { command, args, env, cwd } = pgProgramCommand(run);
  const child: ResultPromise = execa(command, args, {
    env,
    cwd,
    reject: false,
    stdin: run.stdinFile ? { file: run.stdinFile } : 'ignore',
    stdout: run.stdoutFile ? { file: run.stdoutFile } : 'pipe',
    cancelSignal: activityCancellationSignal(),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.onStderr) child.stderr?.on('data', (chunk: Buffer) => run.onStderr!(chunk.toString()));
  const result = await withHeartbeat(async () => child, run.progress ? 1000 : undefined, run.progress);
  if (result.exitCode !== 0 || result.failed) {
    if (run.exec) {
      const refused = composeExecRefusal(run.exec.via, run.tool, result);
      if (refused) throw refused;
    }
    throw await pgProgramFailure(run.tool, run.what, result, run.keepOutput);
  }
  return { stdout: run.stdoutFile ? '' : String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** The command line of a run: the program itself, or `docker compose … exec -T -e PGPASSWORD
 * <service> <program>` for a database reached inside compose. The password is only ever in
 * the environment. */
export function pgProgramCommand(run: Pick<PgProgramRun, 'args' | 'url' | 'exec'> & { tool: PgTool }): {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
} {
  const conn = run.url ? libpqArgs(programUrl(run.url, run.exec)) : undefined;
  const args = ['--no-password', ...(conn ? [`--dbname=${conn.dbname}`] : []), ...run.args];
  const env = conn?.env ?? {};
  if (!run.exec) return { command: pgTool(run.tool), args, env };
  const [docker, ...composeArgs] = execArgv(run.exec.via, run.tool, args, Object.keys(env));
  return { command: docker!, args: composeArgs, env, cwd: run.exec.via.cwd };
}

/** docker compose could not run the program at all (the service is stopped, or compose has
 * no such service): say which service and what to do, not pg_dump's exit code. */
function composeExecRefusal(via: ComposeExec, tool: string, result: { stderr?: unknown; exitCode?: number }): Error | undefined {
  const stderr = String(result.stderr ?? '');
  const line = /^.*(is not running|no such service|no container found|not found|cannot connect to the docker daemon).*$/im.exec(
    stderr,
  )?.[0];
  if (!line || new RegExp(`^${tool}: `).test(line.trim())) return undefined;
  return new DatabaseUnreachableError(
    `cannot run ${tool} in the database service '${via.service}' (docker compose exec, exit ${result.exitCode ?? '?'}: ${redactCredentials(line.trim())}) — ${serviceAdvice(via)}`,
  );
}

/** `pg_dump failed (dump of ledger@db:5432, exit 1): pg_dump: error: … (full output: …)`. */
export async function pgProgramFailure(
  tool: string,
  what: string,
  result: { exitCode?: number; signal?: string; stdout?: unknown; stderr?: unknown; shortMessage?: string },
  keep?: OutputKeeper,
): Promise<Error> {
  const exitCode = result.exitCode ?? result.signal ?? '?';
  const output = { stdout: typeof result.stdout === 'string' ? result.stdout : '', stderr: String(result.stderr ?? '') };
  const kept = await keep?.({ what: `${tool} (${what})`, exitCode, ...output });
  const detail =
    failureSummary({ stdout: '', stderr: output.stderr }, kept?.mask) ||
    (result.shortMessage && (kept?.mask ?? redactCredentials)(result.shortMessage)) ||
    'no message';
  return new Error(failureMessage(`${tool} failed (${what}, exit ${exitCode})`, detail, kept));
}

/** `pg_dump --version` where the program runs: this host's (cached), or the one inside the
 * compose database service (asked each time: the image may change with any restart). */
export async function pgProgramMajor(tool: PgTool, via: ComposeExec | undefined): Promise<{ major: number; line: string }> {
  if (!via) {
    const major = await pgToolMajor(tool);
    return { major, line: `${tool} ${major}` };
  }
  const [docker, ...args] = execArgv(via, tool, ['--version']);
  const result = await execa(docker!, args, { cwd: via.cwd, reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0 || result.failed) {
    throw (
      composeExecRefusal(via, tool, result) ??
      new DatabaseUnreachableError(
        `cannot run ${tool} --version in the database service '${via.service}' (exit ${result.exitCode ?? '?'}: ${redactCredentials(
          String(result.stderr ?? '')
            .trim()
            .split('\n')[0] ?? '',
        )}) — ${serviceAdvice(via)}`,
      )
    );
  }
  const line = String(result.stdout).trim();
  const major = Number(/\s(\d+)(?:\.\d+)?/.exec(line)?.[1]);
  if (!Number.isInteger(major)) throw new Error(`cannot tell the version of ${tool} in '${via.service}' from '${line}'`);
  return { major, line: `${line} (in the compose service '${via.service}')` };
}
