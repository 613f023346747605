// Locates PostgreSQL's client and server programs. Debian keeps them under
// /usr/lib/postgresql/<major>/bin and only puts wrappers on PATH, so we look there first
// (newest major wins: pg_dump must be at least as new as the server it dumps).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export type PgTool = 'initdb' | 'pg_ctl' | 'pg_dump' | 'pg_restore' | 'psql' | 'pg_isready';

function candidateDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.PG_BIN_DIR) dirs.push(process.env.PG_BIN_DIR);
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) dirs.push(path.join(debianRoot, major, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) dirs.push(dir);
  return dirs;
}

const cache = new Map<PgTool, string>();

/** Absolute path of a PostgreSQL program, or a clear error saying how to install it. */
export function pgTool(tool: PgTool): string {
  const hit = cache.get(tool);
  if (hit) return hit;
  for (const dir of candidateDirs()) {
    const candidate = path.join(dir, tool);
    if (existsSync(candidate)) {
      cache.set(tool, candidate);
      return candidate;
    }
  }
  throw new Error(
    `PostgreSQL program '${tool}' not found (looked in $PG_BIN_DIR, /usr/lib/postgresql/*/bin and PATH). ` +
      `Install PostgreSQL's server and client tools (Debian: apt-get install postgresql) or set PG_BIN_DIR.`,
  );
}

const majors = new Map<PgTool, Promise<number>>();

/** The major version of a PostgreSQL program (`pg_dump (PostgreSQL) 15.20` → 15): what it
 * can do depends on it (pg_dump's compression methods, for one). */
export function pgToolMajor(tool: PgTool): Promise<number> {
  let known = majors.get(tool);
  if (!known) {
    known = execa(pgTool(tool), ['--version'], { stdin: 'ignore' }).then(({ stdout }) => {
      const major = Number(/\s(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
      if (!Number.isInteger(major)) throw new Error(`cannot tell the version of ${tool} from '${stdout.trim()}'`);
      return major;
    });
    // A failure is not remembered: the next call asks again.
    known.catch(() => majors.delete(tool));
    majors.set(tool, known);
  }
  return known;
}
