// The only form in which a secret may leave an activity: the first 12 hex of its SHA-256.
// For an env-file secret it is taken over the value as written, which is also what the
// ledger stores beside each key hash (`secret_fp`), so the two can be compared.
import { createHash } from 'node:crypto';

export function fingerprint(value: string | Uint8Array): string {
  return sha256Hex(value).slice(0, 12);
}

export function sha256Hex(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}
