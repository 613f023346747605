// Client-side encryption of off-site copies: AES-256-GCM in the STREAM construction
// (Hoang, Reyhanitabar, Rogaway, Vizár 2015; what age and Tink's streaming AEAD use). The
// plaintext is cut into 1 MiB chunks, each sealed on its own with a nonce made of a 7-byte
// prefix, a 4-byte chunk counter and a last-chunk flag, and the header as associated data.
// So it streams in constant memory, every chunk is authenticated before it is written, and
// reordered, dropped, truncated or appended chunks fail to decrypt.
//
//   header  "DAY2AES1" | key id (6 bytes) | nonce prefix (7) | chunk size (uint32 BE)
//   chunks  ciphertext of chunk i (chunk size bytes, the last may be shorter) | tag (16)
//
// The nonce prefix is derived from the key and the plaintext's SHA-256 (HMAC), so the same
// dump encrypts to the same bytes: a retried upload can prove the object already in the
// bucket is exactly what it would send, without sending it again. Equal nonces thus only
// ever seal equal plaintexts, which GCM allows; it reveals that two copies are the same
// dump, nothing more.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BackupInvalidError, BadInputError } from '../../domain/errors';

const MAGIC = Buffer.from('DAY2AES1');
const KEY_ID_BYTES = 6;
const PREFIX_BYTES = 7;
export const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + PREFIX_BYTES + 4;
const TAG_BYTES = 16;
export const CHUNK_BYTES = 1024 * 1024;

export interface EncryptionKey {
  key: Buffer;
  /** First 12 hex of SHA-256 of the key: names it in manifests and messages. */
  id: string;
}

/** A 32-byte key written as 64 hex digits or base64; `source` names where it came from. */
export function parseEncryptionKey(text: string, source: string): EncryptionKey {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length !== 32) {
    throw new BadInputError(
      `${source} is not a 32-byte key`,
      'write 64 hex digits or 44 characters of base64 (e.g. `openssl rand -hex 32`)',
    );
  }
  return { key, id: keyIdOf(key) };
}

export const keyIdOf = (key: Buffer) =>
  createHash('sha256')
    .update(key)
    .digest('hex')
    .slice(0, KEY_ID_BYTES * 2);

/** Size of the ciphertext of `plainBytes` bytes. */
export function encryptedSize(plainBytes: number, chunkBytes = CHUNK_BYTES): number {
  const chunks = Math.max(1, Math.ceil(plainBytes / chunkBytes));
  return HEADER_BYTES + plainBytes + chunks * TAG_BYTES;
}

function nonce(prefix: Buffer, counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, PREFIX_BYTES);
  n[11] = last ? 1 : 0;
  return n;
}

/** Encrypts a stream; `plainSha256` (hex) is the dump's checksum from its manifest. */
export function encryptStream(k: EncryptionKey, plainSha256: string, chunkBytes = CHUNK_BYTES): Transform {
  const prefix = createHmac('sha256', k.key).update(`day2-offsite-nonce:${plainSha256}`).digest().subarray(0, PREFIX_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from(k.id, 'hex'), prefix, u32(chunkBytes)]);
  const seal = (chunk: Buffer, counter: number, last: boolean) => {
    const cipher = createCipheriv('aes-256-gcm', k.key, nonce(prefix, counter, last));
    cipher.setAAD(header);
    return Buffer.concat([cipher.update(chunk), cipher.final(), cipher.getAuthTag()]);
  };
  return chunked(chunkBytes, header, seal);
}

/** Decrypts a stream made by encryptStream with key `k`: throws (BackupInvalid) on any byte
 * that does not authenticate, on another key, and on a stream cut short. */
export function decryptStream(k: EncryptionKey, what: string): Transform {
  let header: Buffer | undefined;
  let pending: Buffer = Buffer.alloc(0);
  let counter = 0;
  let frame = 0;
  let prefix: Buffer = Buffer.alloc(0);
  const fail = (why: string) => new BackupInvalidError(`${what} ${why}`);
  const open = (sealed: Buffer, last: boolean): Buffer => {
    if (sealed.length < TAG_BYTES) throw fail('is truncated (a chunk is shorter than its tag)');
    const decipher = createDecipheriv('aes-256-gcm', k.key, nonce(prefix, counter++, last));
    decipher.setAAD(header!);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw fail(`does not authenticate at chunk ${counter - 1} (altered, truncated or reordered)`);
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        if (!header) {
          if (pending.length < HEADER_BYTES) return done();
          header = pending.subarray(0, HEADER_BYTES);
          pending = pending.subarray(HEADER_BYTES);
          if (!header.subarray(0, MAGIC.length).equals(MAGIC)) throw fail('is not a day2-encrypted copy (wrong header)');
          const keyId = header.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES).toString('hex');
          if (keyId !== k.id) throw fail(`was encrypted with key ${keyId}, but the configured key is ${k.id}`);
          prefix = header.subarray(MAGIC.length + KEY_ID_BYTES, MAGIC.length + KEY_ID_BYTES + PREFIX_BYTES);
          frame = header.readUInt32BE(HEADER_BYTES - 4) + TAG_BYTES;
          if (frame <= TAG_BYTES || frame > 64 * 1024 * 1024) throw fail('has an impossible chunk size in its header');
        }
        // A frame is known not to be the last only once more bytes follow it.
        while (pending.length > frame) {
          this.push(open(pending.subarray(0, frame), false));
          pending = pending.subarray(frame);
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        if (!header) throw fail('is truncated (shorter than its header)');
        done(null, open(pending, true));
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** Cuts the stream into `size`-byte chunks and seals each; the last one (possibly empty)
 * is sealed as last. */
function chunked(size: number, header: Buffer, seal: (chunk: Buffer, counter: number, last: boolean) => Buffer): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let counter = 0;
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) {
        started = true;
        this.push(header);
      }
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length > size) {
        this.push(seal(pending.subarray(0, size), counter++, false));
        pending = pending.subarray(size);
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!started) this.push(header);
      done(null, seal(pending, counter++, true));
    },
  });
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const SEAL_MAGIC = 'DAY2SEAL1';
const SEAL_NONCE_BYTES = 12;

/** Seals a small value (an off-site manifest's details) on its own: AES-256-GCM under a
 * random nonce, bound to `context` (associated data, e.g. the copy's file name, so a sealed
 * value moved to another manifest does not open). Written as `DAY2SEAL1:<key id>:<base64>`. */
export function sealValue(k: EncryptionKey, plain: Buffer, context: string): string {
  const iv = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  cipher.setAAD(Buffer.from(`${SEAL_MAGIC}:${context}`));
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${SEAL_MAGIC}:${k.id}:${sealed.toString('base64')}`;
}

/** Opens what sealValue made with key `k` for `context`; BackupInvalid on another key, an
 * altered value or another context. */
export function openSealedValue(k: EncryptionKey, text: string, context: string, what: string): Buffer {
  const [magic, keyId, body] = text.split(':');
  if (magic !== SEAL_MAGIC || !keyId || body === undefined) throw new BackupInvalidError(`${what} is not a day2-sealed value`);
  if (keyId !== k.id) throw new BackupInvalidError(`${what} was sealed with key ${keyId}, but the configured key is ${k.id}`);
  const sealed = Buffer.from(body, 'base64');
  if (sealed.length < SEAL_NONCE_BYTES + TAG_BYTES) throw new BackupInvalidError(`${what} is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', k.key, sealed.subarray(0, SEAL_NONCE_BYTES));
  decipher.setAAD(Buffer.from(`${SEAL_MAGIC}:${context}`));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(SEAL_NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new BackupInvalidError(`${what} does not authenticate (altered, or moved from another copy)`);
  }
}
