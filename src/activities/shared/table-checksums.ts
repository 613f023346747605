// A fingerprint of a database's data: for every user table, its row count and the MD5 of
// its rows in a stable order. Two databases with equal fingerprints hold the same rows;
// tests and the DR drill compare a restore against its source with it. Not an activity:
// it reads whole tables, so point it at test and drill databases, not busy production.
import type pg from 'pg';
import { quoteIdent, withClient } from './pg-connection';

/** Every user table (plain and partitioned), `schema.name` order. */
export async function userTables(client: pg.Client): Promise<Array<{ schema: string; name: string }>> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2`,
  );
  return rows;
}

/** `{ 'public.accounts': 'rows=3' }`, keys sorted: every table read through its heap (a
 * sequential scan, never an index-only one, so every data page is read and, with data
 * checksums on, checked). A restore's check of a copy it has no reference for: a fraction
 * of the checksums' cost, which sort and hash every row. */
export async function tableRowCounts(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    await client.query('SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off');
    const result: Record<string, string> = {};
    for (const { schema, name } of await userTables(client)) {
      const { rows } = await client.query<{ rows: string }>(`SELECT count(*)::text AS rows FROM ${quoteIdent(schema)}.${quoteIdent(name)}`);
      result[`${schema}.${name}`] = `rows=${rows[0]!.rows}`;
    }
    return result;
  });
}

/** `{ 'public.accounts': 'rows=3 md5=…' }`, keys sorted. */
export async function tableChecksums(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const result: Record<string, string> = {};
    for (const { schema, name } of await userTables(client)) {
      const { rows } = await client.query<{ rows: string; md5: string }>(
        `SELECT count(*)::text AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5
           FROM ${quoteIdent(schema)}.${quoteIdent(name)} t`,
      );
      result[`${schema}.${name}`] = `rows=${rows[0]!.rows} md5=${rows[0]!.md5}`;
    }
    return result;
  });
}
