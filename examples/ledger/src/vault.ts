// The vault table: appending signed, hash-linked entries and reading them back.
import type pg from 'pg';
import { ADVISORY_LOCK, type Queryable, withTransaction } from './db';
import type { SigningKey } from './signing-key';
import { GENESIS_HASH, linkHash, signHash } from './vault-chain';

export interface AppendedEntry {
  seq: number;
  hash: string;
  keyId: string;
}

export interface StoredEntry extends AppendedEntry {
  payload: unknown;
  prevHash: string;
  signature: string;
}

/**
 * Appends payloads as consecutive entries in one transaction. The advisory lock serialises
 * appenders (a row lock cannot, while the table is empty), so seq and prev_hash never fork.
 */
export async function appendEntries(
  client: pg.ClientBase,
  key: SigningKey,
  payloads: readonly unknown[],
  opts: { recordPayloadBytes: boolean },
): Promise<AppendedEntry[]> {
  return withTransaction(client, async () => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.vaultAppend]);
    const last = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1');
    let seq = Number(last.rows[0]?.seq ?? 0);
    let prevHash = last.rows[0]?.hash ?? GENESIS_HASH;
    const appended: AppendedEntry[] = [];
    for (const payload of payloads) {
      seq += 1;
      const hash = linkHash(prevHash, seq, payload);
      const signature = signHash(hash, key.privateKey);
      await insertEntry(client, { seq, payload, prevHash, hash, signature, keyId: key.keyId }, opts);
      appended.push({ seq, hash, keyId: key.keyId });
      prevHash = hash;
    }
    return appended;
  });
}

async function insertEntry(db: Queryable, entry: StoredEntry, opts: { recordPayloadBytes: boolean }): Promise<void> {
  const values = [entry.seq, JSON.stringify(entry.payload), entry.prevHash, entry.hash, entry.signature, entry.keyId];
  // payload_bytes is computed by the database, exactly as the 1.2.0 backfill does.
  const sql = opts.recordPayloadBytes
    ? `INSERT INTO entries (seq, payload, prev_hash, hash, signature, key_id, payload_bytes)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6, octet_length($2::jsonb::text))`
    : `INSERT INTO entries (seq, payload, prev_hash, hash, signature, key_id)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6)`;
  await db.query(sql, values);
}

/** Entries with seq > after, in order, at most `limit`. */
export async function readEntries(db: Queryable, after: number, limit: number): Promise<StoredEntry[]> {
  const result = await db.query<{
    seq: string;
    payload: unknown;
    prev_hash: string;
    hash: string;
    signature: string;
    key_id: string;
  }>('SELECT seq, payload, prev_hash, hash, signature, key_id FROM entries WHERE seq > $1 ORDER BY seq LIMIT $2', [after, limit]);
  return result.rows.map((r) => ({
    seq: Number(r.seq),
    payload: r.payload,
    prevHash: r.prev_hash,
    hash: r.hash,
    signature: r.signature,
    keyId: r.key_id,
  }));
}

export async function countEntries(db: Queryable): Promise<number> {
  const result = await db.query<{ n: string }>('SELECT count(*) AS n FROM entries');
  return Number(result.rows[0]?.n ?? 0);
}
