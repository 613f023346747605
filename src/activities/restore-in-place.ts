// The fallback when the role cannot create databases: first a safety dump of the live
// database (the safety net of invariant 3), then pg_restore --clean in ONE transaction,
// so the live database ends as either the old data or the backup's, never half of each.
// Running it twice is harmless: the safety dump is reused and the restore yields the
// same data again.
import type { DeploymentConfig } from '../domain/config-schema';
import type { Logger } from '../logger';
import { inspectArchive } from './backup-archive';
import { ensureBackup, type BackupOutcome, type BackupRun } from './backup-create';
import { backupPaths } from './backup-files';
import type { DatabaseTarget } from './pg-connection';
import { withClient } from './pg-connection';
import { runPgProgram } from './pg-programs';

export interface InPlaceOutcome {
  safetyFile: string;
  safetyReused: boolean;
  /** Tables in the live database that the backup does not have (created after it was
   * taken, e.g. by a newer migration): --clean only drops what the archive knows. */
  leftoverTables: string[];
}

export async function restoreLiveInPlace(
  d: DeploymentConfig,
  target: DatabaseTarget,
  file: string,
  safety: BackupRun,
  logger: Logger,
): Promise<InPlaceOutcome> {
  const safetyDump: BackupOutcome = await ensureBackup(d, target, safety);
  logger.info({ database: target.label, safetyFile: safety.fileName, reused: safetyDump.reused }, 'safety dump in place');

  const dumpPath = backupPaths(d.backup.dir, file).dump;
  await runPgProgram({
    tool: 'pg_restore',
    args: ['--clean', '--if-exists', '--no-owner', '--no-acl', '--single-transaction', '--exit-on-error', dumpPath],
    url: target.ownerLiveUrl,
    what: `restore of ${file} into ${target.label}`,
  });

  const archived = new Set((await inspectArchive(dumpPath, file)).tables);
  const leftoverTables = (await userTables(target.ownerLiveUrl)).filter((t) => !archived.has(t));
  if (leftoverTables.length) logger.warn({ database: target.label, leftoverTables }, 'tables not in the backup were left in place');
  return { safetyFile: safety.fileName, safetyReused: safetyDump.reused, leftoverTables };
}

async function userTables(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1`,
    );
    return rows.map((r) => r.name);
  });
}
