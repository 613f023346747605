// Restore by staging: the backup goes into a fresh database beside the live one while the
// service still runs; then one short step renames live → keepAs and staging → live. The
// previous data is never dropped here: it stays as keepAs until someone decides.
import { open } from 'node:fs/promises';
import os from 'node:os';
import { failure } from '../../domain/failures';
import type pg from 'pg';
import { transferProgress } from '../../domain/transfer-progress';
import { BadInputError } from '../../domain/errors';
import type { Logger } from '../../logger';
import type { DatabaseTarget } from '../shared/pg-connection';
import { assertDatabaseName, databaseExists, quoteIdent, quoteLiteral, sqlState, withClient, withDatabase } from '../shared/pg-connection';
import { runPgProgram } from '../shared/pg-programs';
import type { RestorableArchive } from './restorable-archive';

const SYSTEM_DATABASES = new Set(['postgres', 'template0', 'template1']);

/** A database day2 may create, rename onto or drop: never the live one, never a system one. */
export function assertScratchDatabase(target: DatabaseTarget, name: string, what: string): string {
  assertDatabaseName(name, what);
  if (name === target.liveName) throw new BadInputError(`${what} '${name}' is the live database of this deployment`);
  if (SYSTEM_DATABASES.has(name)) throw new BadInputError(`${what} '${name}' is a system database`);
  return name;
}

export interface StagingRestoreOptions {
  /** pg_restore -j: the deployment's restore.jobs, default the worker's core count. */
  jobs?: number;
  /** Entries of the archive's table of contents (its manifest's tocEntries), for progress. */
  tocEntries?: number;
}

/** Drops and creates `stagingDb`, then pg_restores the archive into it, in parallel when the
 * archive allows it. Recreating makes a retry start clean: the staging database is ours
 * alone. Heartbeats say how many items of the table of contents are done. */
export async function restoreIntoStaging(
  target: DatabaseTarget,
  archive: RestorableArchive,
  fileName: string,
  stagingDb: string,
  opts: StagingRestoreOptions = {},
): Promise<void> {
  if (target.exec && archive.format === 'directory') {
    throw new BadInputError(
      `${fileName} is a directory-format backup: pg_restore inside the compose service '${target.exec.via.service}' reads one archive from stdin, not a directory`,
      'restore it with runtime.databaseVia url (a published port), or take custom-format backups (backup.format custom)',
    );
  }
  await recreateDatabaseLike(target, stagingDb);
  // Inside compose the archive arrives on pg_restore's stdin, and pg_restore -j needs to
  // seek in a file: one job there.
  const parallel = !target.exec && (archive.format === 'directory' || (await isCustomArchiveFile(archive.path)));
  const jobs = parallel ? (opts.jobs ?? os.availableParallelism()) : 1;
  const items = new RestoreItemCounter();
  const started = Date.now();
  await runPgProgram({
    tool: 'pg_restore',
    args: [
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--verbose',
      ...(archive.format === 'directory' ? ['--format=directory'] : []),
      ...(jobs > 1 ? [`--jobs=${jobs}`] : []),
      ...(target.exec ? [] : [archive.path]),
    ],
    url: withDatabase(target.adminUrl, stagingDb),
    exec: target.exec,
    stdinFile: target.exec ? archive.path : undefined,
    what: `restore of ${fileName} into ${stagingDb}`,
    onStderr: (text) => items.read(text),
    progress: () =>
      transferProgress({ phase: 'restore', unit: 'items', done: items.done, total: opts.tocEntries, elapsedMs: Date.now() - started }),
  });
}

/** pg_restore -j needs a custom-format archive in a regular file or a directory archive
 * (restorable-archive.ts unpacks day2's). Custom archives start with "PGDMP". */
async function isCustomArchiveFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await handle.read(head, 0, 5, 0);
    return bytesRead === 5 && head.toString('latin1') === 'PGDMP' && (await handle.stat()).isFile();
  } finally {
    await handle.close();
  }
}

/** Counts the items pg_restore --verbose reports done. Serially it names each item as it
 * restores it ("creating …", "processing data …", "executing …"); in its parallel loop the
 * workers say the same and the leader says "finished item …": only the latter counts there. */
export class RestoreItemCounter {
  done = 0;
  private inParallelLoop = false;
  private partial = '';

  read(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (!line.startsWith('pg_restore: ')) return;
    const what = line.slice('pg_restore: '.length);
    if (what.startsWith('entering main parallel loop')) this.inParallelLoop = true;
    else if (what.startsWith('finished main parallel loop')) this.inParallelLoop = false;
    else if (this.inParallelLoop ? what.startsWith('finished item ') : /^(creating|processing data|executing) /.test(what)) this.done++;
  }
}

async function recreateDatabaseLike(target: DatabaseTarget, name: string): Promise<void> {
  await withClient(target.adminUrl, async (client) => {
    const options = await creationOptionsOf(client, target.liveName);
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)} ${options}`);
    } catch (err) {
      if (sqlState(err) !== '42501') throw err;
      // The workflow falls back to a safety dump and an in-place restore.
      throw failure('NoCreateDb', `the database role cannot create databases (${(err as Error).message}); nothing was changed`);
    }
  });
}

/** `TEMPLATE template0 ENCODING … LC_COLLATE … OWNER …` copied from the live database, so
 * the restored data sorts and compares exactly as before and keeps its owner. */
async function creationOptionsOf(client: pg.Client, liveName: string): Promise<string> {
  const { rows } = await client.query<Record<string, unknown>>(
    `SELECT d.*, pg_encoding_to_char(d.encoding) AS encoding_name, r.rolname AS owner_name,
            pg_has_role(current_user, d.datdba, 'MEMBER') AS may_own
       FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = $1`,
    [liveName],
  );
  const live = rows[0];
  if (!live) return 'TEMPLATE template0';
  const parts = [
    'TEMPLATE template0',
    `ENCODING ${quoteLiteral(String(live.encoding_name))}`,
    `LC_COLLATE ${quoteLiteral(String(live.datcollate))}`,
    `LC_CTYPE ${quoteLiteral(String(live.datctype))}`,
  ];
  // PostgreSQL 15+ records the locale provider; 17 renamed daticulocale to datlocale.
  const locale = (live.datlocale ?? live.daticulocale) as string | null | undefined;
  if (live.datlocprovider === 'i' && locale) parts.push(`LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(locale)}`);
  if (live.datlocprovider === 'b' && locale) parts.push(`LOCALE_PROVIDER builtin BUILTIN_LOCALE ${quoteLiteral(locale)}`);
  if (live.may_own === true) parts.push(`OWNER ${quoteIdent(String(live.owner_name))}`);
  return parts.join(' ');
}

export type SwapState = 'ready' | 'done' | 'half-done';

/** Where the swap stands, judged only from which of the three names exist. */
export function swapStateOf(
  exists: { live: boolean; staging: boolean; keepAs: boolean },
  names: { live: string; staging: string; keepAs: string },
): SwapState {
  if (exists.keepAs && !exists.staging && exists.live) return 'done';
  // Only reachable if the two renames ever ran apart (they run in one transaction).
  if (exists.keepAs && exists.staging && !exists.live) return 'half-done';
  if (exists.staging && exists.live && !exists.keepAs) return 'ready';
  if (!exists.staging && !exists.keepAs) {
    throw new BadInputError(
      `staging database '${names.staging}' does not exist, and neither does '${names.keepAs}': nothing to swap in (restore into staging first); nothing was changed`,
    );
  }
  if (exists.staging && exists.keepAs) {
    throw new BadInputError(`'${names.keepAs}' already exists: it would be overwritten by the live database; nothing was changed`);
  }
  throw new BadInputError(`live database '${names.live}' does not exist; refusing to swap blindly — nothing was changed`);
}

/** Renames live → keepAs and staging → live in one transaction (ALTER DATABASE RENAME is
 * transactional), after terminating the sessions that would block it. */
export async function swapDatabases(
  target: DatabaseTarget,
  stagingDb: string,
  keepAs: string,
  logger: Logger,
): Promise<{ alreadyDone: boolean }> {
  const names = { live: target.liveName, staging: stagingDb, keepAs };
  return withClient(target.adminUrl, async (client) => {
    for (let attempt = 1; ; attempt++) {
      const exists = {
        live: await databaseExists(client, names.live),
        staging: await databaseExists(client, names.staging),
        keepAs: await databaseExists(client, names.keepAs),
      };
      const state = swapStateOf(exists, names);
      if (state === 'done') return { alreadyDone: true };
      try {
        await client.query('BEGIN');
        await terminateSessions(client, [names.live, names.staging]);
        if (state === 'ready') await client.query(`ALTER DATABASE ${quoteIdent(names.live)} RENAME TO ${quoteIdent(keepAs)}`);
        await client.query(`ALTER DATABASE ${quoteIdent(stagingDb)} RENAME TO ${quoteIdent(names.live)}`);
        await client.query('COMMIT');
        logger.info({ database: target.label, keptAs: keepAs, from: stagingDb }, 'restored database swapped in');
        return { alreadyDone: false };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        // 55006: a client reconnected between terminate and rename. Terminate again.
        if (sqlState(err) !== '55006' || attempt >= 5) throw err;
        logger.warn({ database: target.label, attempt }, 'database still in use during swap; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  });
}

/** Ends every other session on these databases and waits (up to 5 s each) until gone. */
async function terminateSessions(client: pg.Client, databases: string[]): Promise<void> {
  await client.query(
    `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
      WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()`,
    [databases],
  );
}

/** Drops a staging (or set-aside) database. Never the live one. */
export async function dropScratchDatabase(target: DatabaseTarget, name: string): Promise<{ dropped: boolean }> {
  assertScratchDatabase(target, name, 'database to drop');
  return withClient(target.adminUrl, async (client) => {
    if (!(await databaseExists(client, name))) return { dropped: false };
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    return { dropped: true };
  });
}
