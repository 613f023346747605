// A PayloadCodec that encrypts every payload with AES-256-GCM before it leaves the client
// or the worker, so workflow histories hold only ciphertext (defence in depth for
// invariant 4: secrets never enter history in the first place). The key id travels in the
// payload's metadata, in the clear, so a keyring holding several keys can read payloads
// written under older keys while new ones use the current key (rotation). The key id is
// also authenticated (GCM additional data): swapping it makes decryption fail.
//
// Wire format of an encrypted payload:
//   metadata: { encoding: "binary/encrypted", "encryption-key-id": "<id>" }
//   data:     12-byte IV ‖ ciphertext ‖ 16-byte tag, where the plaintext is the original
//             payload as JSON ({ metadata: { k: base64 }, data: base64 }).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { CodecKeyring } from './keys';
import { payloadFromJson, payloadToJson, type JsonPayload } from './payload-json';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be decrypted: unknown key id, altered bytes, or the wrong key. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');
const additionalData = (keyId: string) => Buffer.from(`day2/aes-256-gcm/v1:${keyId}`);

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(private readonly keyring: CodecKeyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : p));
  }

  encrypt(payload: Payload): Payload {
    const keyId = this.keyring.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.keyring.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(keyId));
    const body = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = this.keyring.keys.get(keyId);
    if (!key) {
      throw new CodecError(
        `payload was encrypted with codec key '${keyId || '(none)'}', which this keyring does not hold ` +
          `(it holds: ${[...this.keyring.keys.keys()].join(', ')}) — keep retired keys in temporal.codec's keyring while histories still use them`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new CodecError(`encrypted payload is too short (${data.length} bytes): it was altered`);
    try {
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return deserialize(plain);
    } catch (err) {
      if (err instanceof CodecError) throw err;
      throw new CodecError(
        `encrypted payload (key '${keyId}') failed authentication: it was altered, or key '${keyId}' is not the key it was written with`,
      );
    }
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

function serialize(payload: Payload): Buffer {
  return Buffer.from(JSON.stringify(payloadToJson(payload)));
}

function deserialize(plain: Buffer): Payload {
  try {
    return payloadFromJson(JSON.parse(plain.toString('utf8')) as JsonPayload);
  } catch {
    throw new CodecError('decrypted payload is not a day2 payload envelope');
  }
}
