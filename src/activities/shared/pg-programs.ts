// Runs pg_dump / pg_restore for an activity: the password travels in PGPASSWORD, never
// on argv; the activity heartbeats while the program runs; a cancelled activity kills
// the program; a failure becomes an error that names the database, not the URL, and
// shows the line that says what went wrong.
import { activityCancellationSignal } from './activity-context';
import { execa, type ResultPromise } from 'execa';
import { failureMessage, failureSummary, type OutputKeeper } from './failure-text';
import { withHeartbeat } from './heartbeat';
import { redactCredentials } from '../../domain/mask-credentials';
import { libpqArgs } from './pg-connection';
import { pgTool, type PgTool } from '../../lib/pg-tools';

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
}

export async function runPgProgram(run: PgProgramRun): Promise<{ stdout: string; stderr: string }> {
  const conn = run.url ? libpqArgs(run.url) : undefined;
  const args = conn ? [`--dbname=${conn.dbname}`, ...run.args] : run.args;
  const child: ResultPromise = execa(pgTool(run.tool), ['--no-password', ...args], {
    env: conn?.env ?? {},
    reject: false,
    stdin: 'ignore',
    cancelSignal: activityCancellationSignal(),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.onStderr) child.stderr?.on('data', (chunk: Buffer) => run.onStderr!(chunk.toString()));
  const result = await withHeartbeat(async () => child, run.progress ? 1000 : undefined, run.progress);
  if (result.exitCode !== 0 || result.failed) throw await pgProgramFailure(run.tool, run.what, result, run.keepOutput);
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
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
