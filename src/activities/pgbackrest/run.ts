// Runs pgBackRest and pg_ctl as the OS user that owns the cluster's data directory (as
// root, that user; otherwise day2 must be that user), with the stanza's config file day2
// writes. pgBackRest takes every option from that file, so archive_command, restore_command
// and day2 all see the same repository, retention and passphrase.
import { statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { BadInputError } from '../../domain/errors';
import type { PgbackrestConfig } from '../../domain/pgbackrest';
import { activityCancellationSignal } from '../shared/activity-context';

export interface OsUser {
  uid?: number;
  gid?: number;
}

/** The owner of `dir` to run as (as root), or nothing when day2 already is that user. */
export function clusterOwner(dir: string): OsUser {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new BadInputError(
      `the data directory ${dir} is not on the worker's host`,
      "backup.method pgbackrest needs the cluster's data directory on the machine the worker runs on (a managed database: use backup.method pg_dump)",
    );
  }
  const me = process.getuid?.();
  if (me === 0) return st.uid === 0 ? {} : { uid: st.uid, gid: st.gid };
  if (me !== st.uid)
    throw new BadInputError(
      `the data directory ${dir} belongs to uid ${st.uid}, and the worker runs as uid ${me}`,
      "run the worker as the cluster's OS user (or as root)",
    );
  return {};
}

export const configFileOf = (c: PgbackrestConfig) => c.configFile ?? path.join(path.dirname(c.dataDir), `day2-pgbackrest-${c.stanza}.conf`);

/** The archive_command day2 sets, and recognises as its own. */
export const archiveCommandOf = (c: PgbackrestConfig) => `pgbackrest --config=${configFileOf(c)} --stanza=${c.stanza} archive-push %p`;

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** `pgbackrest --config=… --stanza=… <command> <args>` as the cluster's owner; throws with
 * pgBackRest's own error line unless `reject: false`. */
export async function pgbackrest(
  c: PgbackrestConfig,
  command: string,
  args: string[] = [],
  opts: { reject?: boolean } = {},
): Promise<RunResult> {
  const r = await execa('pgbackrest', [`--config=${configFileOf(c)}`, `--stanza=${c.stanza}`, ...args, command], {
    ...clusterOwner(c.dataDir),
    cwd: '/',
    reject: false,
    stdin: 'ignore',
    cancelSignal: activityCancellationSignal(),
  });
  const result = { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  if (result.exitCode !== 0 && opts.reject !== false) {
    throw new Error(`pgbackrest ${command} failed (exit ${result.exitCode}): ${errorLines(result)}`);
  }
  return result;
}

/** pgBackRest's `ERROR: [nnn]: …` lines, else the last lines it printed. */
export function errorLines(r: { stdout: string; stderr: string }): string {
  const all = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = all.filter((l) => /ERROR|HINT/.test(l));
  return (errors.length ? errors : all.slice(-3)).join(' | ').slice(0, 1500) || 'no output';
}

/** Whether the pgbackrest program is installed. */
export async function pgbackrestInstalled(): Promise<boolean> {
  return (await execa('pgbackrest', ['version'], { reject: false })).exitCode === 0;
}
