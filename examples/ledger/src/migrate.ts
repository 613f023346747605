// Applying migrations and asking which are applied or pending.
import type pg from 'pg';
import { ADVISORY_LOCK, type Queryable, tableExists, withTransaction } from './db';
import { LedgerError } from './errors';
import { migrationsThrough, SCHEMA_MIGRATIONS_DDL } from './migrations';
import { requireRelease } from './releases';

/**
 * Brings the schema to release `version` in one transaction and returns the ids applied.
 * Serialised by an advisory lock, so a concurrent run waits, then finds nothing to do;
 * a run that applies nothing leaves no trace (no migration_log row).
 */
export async function migrateTo(client: pg.ClientBase, version: string): Promise<string[]> {
  requireRelease(version);
  return withTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.migrate]);
    await client.query(SCHEMA_MIGRATIONS_DDL);
    const applied = new Set(await appliedMigrationIds(client));
    const todo = migrationsThrough(version).filter((m) => !applied.has(m.id));
    for (const migration of todo) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (id, release) VALUES ($1, $2)', [migration.id, migration.release]);
    }
    const ids = todo.map((m) => m.id);
    if (ids.length > 0) {
      await client.query('INSERT INTO migration_log (target_release, applied) VALUES ($1, $2)', [version, ids]);
    }
    return ids;
  });
}

/** Applied migration ids in order; empty for a database never migrated. */
export async function appliedMigrationIds(db: Queryable): Promise<string[]> {
  if (!(await tableExists(db, 'schema_migrations'))) return [];
  const result = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
  return result.rows.map((r) => r.id);
}

/** Ids that release `version` needs and the database lacks. */
export async function pendingMigrationIds(db: Queryable, version: string): Promise<string[]> {
  const applied = new Set(await appliedMigrationIds(db));
  return migrationsThrough(version)
    .map((m) => m.id)
    .filter((id) => !applied.has(id));
}

export function pendingMessage(version: string): string {
  return `migrations pending: run migrate ${version}`;
}

/** Refuses to let release `version` write to a schema it does not know yet. */
export async function assertMigrated(db: Queryable, version: string): Promise<void> {
  const pending = await pendingMigrationIds(db, version);
  if (pending.length > 0) throw new LedgerError(`${pendingMessage(version)} (missing ${pending.join(', ')})`);
}
