// Step 4 of the API key secret rotation: move every key hashed under the previous secret
// to the current one. Each row is its own guarded UPDATE, so the command can be killed at
// any point and run again: rows already moved no longer match the guard.
import type { Queryable } from './db';
import type { ApiKeySecret, ApiKeySecrets } from './api-key-secret';
import { LedgerError } from './errors';

export interface RehashResult {
  rehashed: number;
  /** Keys still not under the current secret after this run. */
  remaining: number;
  /** Ids whose sealed digest did not open or did not match its MAC (left untouched). */
  unreadable: string[];
}

export async function rehashApiKeys(db: Queryable, secrets: ApiKeySecrets): Promise<RehashResult> {
  const { current, previous } = secrets;
  if (!previous) {
    const stranded = await countNotUnder(db, current);
    if (stranded > 0) {
      throw new LedgerError(
        `${stranded} API key(s) are hashed under a secret other than API_KEY_SECRET and ` +
          'API_KEY_SECRET_PREVIOUS is not set: set it to the secret they were hashed with, then run rehash-keys again',
      );
    }
    return { rehashed: 0, remaining: 0, unreadable: [] };
  }
  if (previous.fingerprint === current.fingerprint) {
    return { rehashed: 0, remaining: await countNotUnder(db, current), unreadable: [] };
  }

  const rows = await db.query<{ id: string; mac: string; sealed_digest: string }>(
    'SELECT id, mac, sealed_digest FROM api_keys WHERE secret_fp = $1 ORDER BY id',
    [previous.fingerprint],
  );
  let rehashed = 0;
  const unreadable: string[] = [];
  for (const row of rows.rows) {
    const digest = openDigest(previous, row.id, row.sealed_digest, row.mac);
    if (!digest) {
      unreadable.push(row.id);
      continue;
    }
    const update = await db.query('UPDATE api_keys SET mac = $2, sealed_digest = $3, secret_fp = $4 WHERE id = $1 AND secret_fp = $5', [
      row.id,
      current.mac(digest),
      current.seal(digest, row.id),
      current.fingerprint,
      previous.fingerprint,
    ]);
    rehashed += update.rowCount ?? 0;
  }
  return { rehashed, remaining: await countNotUnder(db, current), unreadable };
}

/** The digest, only if it opens under `secret` and agrees with the stored MAC. */
function openDigest(secret: ApiKeySecret, id: string, sealed: string, mac: string): Buffer | undefined {
  try {
    const digest = secret.open(sealed, id);
    return secret.macMatches(mac, digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

async function countNotUnder(db: Queryable, secret: ApiKeySecret): Promise<number> {
  const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE secret_fp <> $1', [secret.fingerprint]);
  return result.rows[0]?.n ?? 0;
}
