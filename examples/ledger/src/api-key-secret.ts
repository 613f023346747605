// One API_KEY_SECRET and the keys derived from it. A stored key has two parts: a MAC of
// the key's digest (what verification compares) and the digest sealed under a key derived
// from the same secret. The sealed digest is what lets a rotation re-MAC every key under a
// new secret without ever having stored a usable plaintext key.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { LedgerError } from './errors';

const SEAL_INFO = 'ledger api key seal';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a value cannot be an API key secret, or undefined when it can. */
export function apiKeySecretProblem(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return `${name} is not set`;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) return `${name} must be 64 hex characters (32 bytes)`;
  return undefined;
}

/** First 12 hex of SHA-256 of the secret as written in the env file: safe to log and store. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12);
}

export class ApiKeySecret {
  readonly fingerprint: string;
  readonly #macKey: Buffer;
  readonly #sealKey: Buffer;

  constructor(name: string, secret: string | undefined) {
    const problem = apiKeySecretProblem(name, secret);
    if (problem !== undefined || secret === undefined) throw new LedgerError(problem ?? `${name} is not set`);
    this.fingerprint = secretFingerprint(secret);
    this.#macKey = Buffer.from(secret, 'hex');
    this.#sealKey = Buffer.from(hkdfSync('sha256', this.#macKey, Buffer.alloc(0), SEAL_INFO, 32));
  }

  mac(digest: Buffer): string {
    return createHmac('sha256', this.#macKey).update(digest).digest('hex');
  }

  macMatches(storedMac: string, digest: Buffer): boolean {
    const expected = Buffer.from(this.mac(digest), 'hex');
    const stored = Buffer.from(storedMac, 'hex');
    return stored.length === expected.length && timingSafeEqual(stored, expected);
  }

  /** AES-256-GCM; the key id is bound as associated data so sealed values cannot be swapped between rows. */
  seal(digest: Buffer, keyId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, iv);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(digest), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  open(sealed: string, keyId: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }
}

/** The secrets a process holds: the current one and, during a rotation, the previous one. */
export interface ApiKeySecrets {
  current: ApiKeySecret;
  previous: ApiKeySecret | undefined;
}

export function loadApiKeySecrets(current: string | undefined, previous: string | undefined): ApiKeySecrets {
  return {
    current: new ApiKeySecret('API_KEY_SECRET', current),
    previous: previous === undefined ? undefined : new ApiKeySecret('API_KEY_SECRET_PREVIOUS', previous),
  };
}
