// Runs pg_dump / pg_restore for an activity: the password travels in PGPASSWORD, never
// on argv; the activity heartbeats while the program runs; a cancelled activity kills
// the program; a failure becomes an error that names the database, not the URL.
import { Context } from '@temporalio/activity';
import { execa, type ResultPromise } from 'execa';
import { withHeartbeat } from './heartbeat';
import { libpqArgs } from './pg-connection';
import { pgTool, type PgTool } from './pg-tools';

export interface PgProgramRun {
  tool: Extract<PgTool, 'pg_dump' | 'pg_restore'>;
  args: string[];
  /** Where to connect: passed as `--dbname=<url without password>`. */
  url?: string;
  /** `dump of ledger@db:5432`: used in error messages. */
  what: string;
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
  const result = await withHeartbeat(async () => child);
  if (result.exitCode !== 0 || result.failed) {
    const detail = lastLines(String(result.stderr ?? '')) || result.shortMessage || 'no message';
    throw new Error(`${run.tool} failed (${run.what}, exit ${result.exitCode ?? result.signal ?? '?'}): ${detail}`);
  }
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** Aborts with the activity's cancellation (undefined outside an activity). */
export function activityCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}
