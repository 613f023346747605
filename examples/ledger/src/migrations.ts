// The schema, release by release. Migrations are forward-only (a rollback restores a
// backup), each tagged with the release that introduced it.
import { compareVersions } from './releases';

export interface Migration {
  id: string;
  release: string;
  sql: string;
}

/** Created by the migrator itself: it must exist before we can ask what was applied. */
export const SCHEMA_MIGRATIONS_DDL = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    id text PRIMARY KEY,
    release text NOT NULL,
    applied_at timestamptz DEFAULT now()
  )`;

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_migration_log',
    release: '1.0.0',
    sql: `CREATE TABLE migration_log (
      id serial PRIMARY KEY,
      target_release text,
      applied text[] NOT NULL,
      at timestamptz DEFAULT now()
    )`,
  },
  {
    id: '0002_entries',
    release: '1.0.0',
    sql: `CREATE TABLE entries (
      seq bigint PRIMARY KEY,
      payload jsonb NOT NULL,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      signature text NOT NULL,
      key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
  {
    id: '0003_api_keys',
    release: '1.0.0',
    sql: `CREATE TABLE api_keys (
      id text PRIMARY KEY,
      name text NOT NULL,
      mac text NOT NULL,
      sealed_digest text NOT NULL,
      secret_fp text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX api_keys_secret_fp_idx ON api_keys (secret_fp)`,
  },
  {
    id: '0004_audit_events',
    release: '1.1.0',
    sql: `CREATE TABLE audit_events (
      id serial PRIMARY KEY,
      kind text NOT NULL,
      detail jsonb,
      at timestamptz DEFAULT now()
    )`,
  },
  {
    id: '0005_entries_payload_bytes',
    release: '1.2.0',
    // The backfill uses the same expression as new inserts, so old and new rows agree.
    sql: `ALTER TABLE entries ADD COLUMN payload_bytes integer;
    UPDATE entries SET payload_bytes = octet_length(payload::text) WHERE payload_bytes IS NULL`,
  },
  {
    id: '0006_feature_flags',
    release: '1.3.0',
    sql: `CREATE TABLE feature_flags (
      name text PRIMARY KEY,
      enabled boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
  },
];

/** Migrations a database needs to run release `version`. */
export function migrationsThrough(version: string): Migration[] {
  return MIGRATIONS.filter((m) => compareVersions(m.release, version) <= 0);
}
