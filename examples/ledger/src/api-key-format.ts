// The presented API key: `lk_<16 hex id>_<64 hex secret part>`. The id is public (it
// finds the row); only the digest of the whole key is ever kept.
import { createHash, randomBytes } from 'node:crypto';

const API_KEY = /^lk_([0-9a-f]{16})_[0-9a-f]{64}$/;

export function generateApiKey(): { id: string; key: string } {
  const id = randomBytes(8).toString('hex');
  return { id, key: `lk_${id}_${randomBytes(32).toString('hex')}` };
}

/** The key's id, or undefined when the text is not shaped like a key. */
export function apiKeyId(presented: string): string | undefined {
  return API_KEY.exec(presented)?.[1];
}

export function apiKeyDigest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
