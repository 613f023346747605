// The fallback when the role cannot create databases: first a safety dump of the live
// database (the safety net of invariant 3), then the restore in ONE transaction, so the
// live database ends as either the old data or the backup's, never half of each.
//
// `pg_restore --clean` only drops what the archive knows. Tables and views made after the
// backup (a newer release's migration) would survive it — and worse, one that depends on
// an archived table (a foreign key, a view) makes --clean's DROP of that table fail. So
// those relations are dropped first, in the same transaction as the restore: the result is
// exactly the backup, as with the staging restore. Everything dropped is in the safety dump.
//
// Running it twice is harmless: the safety dump is reused and the restore yields the same
// data again (with nothing left to drop).
import { execa } from 'execa';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { Logger } from '../../logger';
import { inspectArchive } from './backup-archive';
import { ensureBackup, type BackupOutcome, type BackupRun } from './backup-create';
import { withRestorableArchive } from './restorable-archive';
import { failedOutputKeeper } from '../shared/failure-log';
import type { OutputKeeper } from '../shared/failure-text';
import { withHeartbeat } from '../shared/heartbeat';
import type { DatabaseTarget } from '../shared/pg-connection';
import { quoteIdent, withClient } from '../shared/pg-connection';
import { activityCancellationSignal } from '../shared/activity-context';
import { pgProgramCommand, pgProgramFailure, runPgProgram } from '../shared/pg-programs';

export interface InPlaceOutcome {
  safetyFile: string;
  safetyReused: boolean;
  /** Relations the backup does not have, dropped in the restore's transaction:
   * `schema.name (table|view|materialized view)`. */
  dropped: string[];
}

interface Relation {
  schema: string;
  name: string;
  kind: 'table' | 'view' | 'materialized view';
}

export async function restoreLiveInPlace(
  d: DeploymentConfig,
  target: DatabaseTarget,
  file: string,
  safety: BackupRun,
  unpackKey: string,
  logger: Logger,
): Promise<InPlaceOutcome> {
  const safetyDump: BackupOutcome = await ensureBackup(d, target, safety);
  logger.info({ database: target.label, safetyFile: safety.fileName, reused: safetyDump.reused }, 'safety dump in place');
  let later: Relation[] = [];

  // A directory-format backup is unpacked (and checked against its manifest) for both reads.
  await withRestorableArchive(d.backup.dir, file, unpackKey, async ({ path: archivePath }) => {
    const archive = await inspectArchive(archivePath, file, target.exec);
    const known = new Set([...archive.tables, ...archive.views]);
    later = (await userRelations(target.ownerLiveUrl)).filter((r) => !known.has(`${r.schema}.${r.name}`));
    const what = `restore of ${file} into ${target.label}`;
    const restoreArgs = ['--clean', '--if-exists', '--no-owner', '--no-acl'];
    const keepOutput = failedOutputKeeper(d);

    if (!later.length) {
      await runPgProgram({
        tool: 'pg_restore',
        args: [...restoreArgs, '--single-transaction', '--exit-on-error', ...(target.exec ? [] : [archivePath])],
        url: target.ownerLiveUrl,
        what,
        keepOutput,
        exec: target.exec,
        stdinFile: target.exec ? archivePath : undefined,
      });
    } else {
      // Views first: a later view may read a later table.
      const order = (r: Relation) => (r.kind === 'table' ? 1 : 0);
      const drops = [...later]
        .sort((a, b) => order(a) - order(b))
        .map((r) => `DROP ${r.kind.toUpperCase()} IF EXISTS ${quoteIdent(r.schema)}.${quoteIdent(r.name)} CASCADE;`);
      await restoreAfter(drops.join('\n'), restoreArgs, archivePath, target, what, keepOutput);
    }
  });
  const dropped = later.map((r) => `${r.schema}.${r.name} (${r.kind})`).sort();
  if (dropped.length)
    logger.warn(
      { database: target.label, dropped, safetyFile: safety.fileName },
      'relations the backup does not have were dropped (they are in the safety dump)',
    );
  return { safetyFile: safety.fileName, safetyReused: safetyDump.reused, dropped };
}

/** `pg_restore --file=-` (the archive as SQL, no connection) piped into `psql
 * --single-transaction` after `sql`: one transaction for both. The password travels in
 * PGPASSWORD, never on argv. Inside compose both run in the database service, the archive
 * streamed into pg_restore's stdin. */
async function restoreAfter(
  sql: string,
  restoreArgs: string[],
  archivePath: string,
  target: DatabaseTarget,
  what: string,
  keepOutput: OutputKeeper,
): Promise<void> {
  const cancelSignal = activityCancellationSignal();
  const exec = target.exec;
  const produce = pgProgramCommand({ tool: 'pg_restore', args: ['--file=-', ...restoreArgs, ...(exec ? [] : [archivePath])], exec });
  const script = execa(produce.command, produce.args, {
    cwd: produce.cwd,
    reject: false,
    stdin: exec ? { file: archivePath } : 'ignore',
    buffer: { stdout: false },
    cancelSignal,
  });
  const consume = pgProgramCommand({
    tool: 'psql',
    args: ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--single-transaction', '--command', sql, '--file=-'],
    url: target.ownerLiveUrl,
    exec,
  });
  const apply = execa(consume.command, consume.args, {
    env: consume.env,
    cwd: consume.cwd,
    reject: false,
    stdin: 'pipe',
    stdout: 'ignore',
    cancelSignal,
  });
  // psql stopping early (an error) closes the pipe: pg_restore's EPIPE is not the news.
  apply.stdin!.on('error', () => {});
  script.stdout!.pipe(apply.stdin!);
  const [produced, applied] = await withHeartbeat(() => Promise.all([script, apply]));
  for (const [tool, r] of [
    ['psql', applied],
    ['pg_restore', produced],
  ] as const) {
    if (r.exitCode !== 0 || r.failed) throw await pgProgramFailure(tool, what, r, keepOutput);
  }
}

/** Tables, views and materialized views in the database's own schemas. */
async function userRelations(url: string): Promise<Relation[]> {
  const kinds: Record<string, Relation['kind']> = { r: 'table', p: 'table', v: 'view', m: 'materialized view' };
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ schema: string; name: string; relkind: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1, 2`,
    );
    return rows.map((r) => ({ schema: r.schema, name: r.name, kind: kinds[r.relkind]! }));
  });
}
