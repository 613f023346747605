// What `pg_restore --list` says about an archive (a custom-format file, or a directory-
// format dump's directory): whether it is readable at all (a truncated or corrupt file
// fails here), which database it was dumped from, and which objects it holds. Reading the
// table of contents is fast: no data is decompressed.
import { open } from 'node:fs/promises';
import { BackupInvalidError, DatabaseUnreachableError } from '../../domain/errors';
import type { DatabaseExec } from '../shared/pg-connection';
import { runPgProgram } from '../shared/pg-programs';

export interface ArchiveContents {
  /** The database the archive was dumped from (its header's `dbname:`). */
  dbname: string;
  /** Entries `pg_restore --list` lists (schema objects and data sections). */
  tocEntries: number;
  /** `schema.table` of every table the archive creates. */
  tables: string[];
  /** `schema.name` of every view and materialized view the archive creates. */
  views: string[];
}

/** `exec`: a database reached inside compose, whose pg_restore reads the archive from stdin
 * (the host may have no PostgreSQL tools, or older ones than the dump's). */
export async function inspectArchive(file: string, name: string, exec?: DatabaseExec): Promise<ArchiveContents> {
  let stdout: string;
  try {
    ({ stdout } = await runPgProgram(
      exec
        ? { tool: 'pg_restore', args: ['--list'], what: `archive ${name}`, exec, stdinFile: file }
        : { tool: 'pg_restore', args: ['--list', file], what: `archive ${name}` },
    ));
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) throw err;
    throw new BackupInvalidError(`${name} is not a readable pg_dump archive (truncated or corrupt?): ${(err as Error).message}`);
  }
  const contents = parseArchiveListing(stdout);
  if (!contents.dbname) throw new BackupInvalidError(`${name}: pg_restore --list printed no archive header`);
  if (contents.tocEntries === 0) {
    throw new BackupInvalidError(`${name} lists no objects at all: restoring it would leave an empty database`);
  }
  return contents;
}

/** Pure: parses `pg_restore --list` output. Entry lines look like
 * `215; 1259 16386 TABLE public accounts postgres`; header lines start with `;`. */
export function parseArchiveListing(listing: string): ArchiveContents {
  let dbname = '';
  let tocEntries = 0;
  const tables: string[] = [];
  const views: string[] = [];
  for (const line of listing.split('\n')) {
    const header = /^;\s+dbname:\s*(.*)$/.exec(line);
    if (header) dbname = header[1]!.trim();
    if (!line.trim() || line.startsWith(';')) continue;
    tocEntries++;
    const table = /^\d+;\s+\d+\s+\d+\s+TABLE\s+(?!DATA\s)(\S+)\s+(\S+)\s/.exec(line);
    if (table) tables.push(`${table[1]}.${table[2]}`);
    const view = /^\d+;\s+\d+\s+\d+\s+(?:MATERIALIZED\s+)?VIEW\s+(?!DATA\s)(\S+)\s+(\S+)\s/.exec(line);
    if (view) views.push(`${view[1]}.${view[2]}`);
  }
  return { dbname, tocEntries, tables, views };
}

/** What a backup file holds, from its first bytes: a custom-format archive starts with
 * "PGDMP"; day2's directory-format backups are tars ("ustar" at offset 257). */
export async function sniffBackupFormat(file: string): Promise<'custom' | 'directory' | 'unknown'> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead >= 5 && head.toString('latin1', 0, 5) === 'PGDMP') return 'custom';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'directory';
    return 'unknown';
  } finally {
    await handle.close();
  }
}
