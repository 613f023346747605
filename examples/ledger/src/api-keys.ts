// Creating and verifying API keys against the api_keys table.
import type { Queryable } from './db';
import { apiKeyDigest, apiKeyId, generateApiKey } from './api-key-format';
import type { ApiKeySecret, ApiKeySecrets } from './api-key-secret';

export interface ApiKeyIdentity {
  keyId: string;
  name: string;
}

/** Stores a new key under the current secret; returns the plaintext, which is not kept. */
export async function createApiKey(db: Queryable, secrets: ApiKeySecrets, name: string): Promise<{ keyId: string; key: string }> {
  const { id, key } = generateApiKey();
  const digest = apiKeyDigest(key);
  const secret = secrets.current;
  await db.query('INSERT INTO api_keys (id, name, mac, sealed_digest, secret_fp) VALUES ($1, $2, $3, $4, $5)', [
    id,
    name,
    secret.mac(digest),
    secret.seal(digest, id),
    secret.fingerprint,
  ]);
  return { keyId: id, key };
}

/**
 * The identity behind a presented key, or undefined. A key is checked under the secret it
 * was hashed with, when the process still holds that secret (current, or previous during a
 * rotation); keys hashed under any other secret no longer work.
 */
export async function verifyApiKey(db: Queryable, secrets: ApiKeySecrets, presented: string): Promise<ApiKeyIdentity | undefined> {
  const id = apiKeyId(presented);
  if (id === undefined) return undefined;
  const result = await db.query<{ name: string; mac: string; secret_fp: string }>(
    'SELECT name, mac, secret_fp FROM api_keys WHERE id = $1',
    [id],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  const secret = secretWithFingerprint(secrets, row.secret_fp);
  if (!secret || !secret.macMatches(row.mac, apiKeyDigest(presented))) return undefined;
  return { keyId: id, name: row.name };
}

function secretWithFingerprint(secrets: ApiKeySecrets, fingerprint: string): ApiKeySecret | undefined {
  if (secrets.current.fingerprint === fingerprint) return secrets.current;
  if (secrets.previous?.fingerprint === fingerprint) return secrets.previous;
  return undefined;
}
