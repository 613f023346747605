// The off-site copies' client-side encryption (AES-256-GCM, STREAM construction), without
// any server: round trips of every size around the chunk boundary, deterministic output
// for the same dump, and refusal of a flipped byte, a cut-off stream, an appended chunk
// and another key; the sealed manifest details (another key, another copy, a flipped byte).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import {
  decryptStream,
  encryptedSize,
  encryptStream,
  openSealedValue,
  parseEncryptionKey,
  sealValue,
} from '../../src/activities/offsite/encryption';

const CHUNK = 1024;
const key = parseEncryptionKey(randomBytes(32).toString('hex'), 'test key');
const other = parseEncryptionKey(randomBytes(32).toString('base64'), 'other key');

async function through(input: Buffer, t: NodeJS.ReadWriteStream, pieces = 7): Promise<Buffer> {
  const out: Buffer[] = [];
  const parts = Array.from({ length: pieces }, (_, i) =>
    input.subarray(Math.floor((i * input.length) / pieces), Math.floor(((i + 1) * input.length) / pieces)),
  );
  await pipeline(Readable.from(parts.filter((p) => p.length)), t, new Writable({ write: (c: Buffer, _e, done) => (out.push(c), done()) }));
  return Buffer.concat(out);
}
const seal = (plain: Buffer) => through(plain, encryptStream(key, 'a'.repeat(64), CHUNK));

describe('off-site encryption', () => {
  test('round trips at every size around the chunk boundary; the size is as predicted', async () => {
    for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
      const plain = randomBytes(n);
      const sealed = await seal(plain);
      assert.equal(sealed.length, encryptedSize(n, CHUNK), `size of ${n}`);
      assert.deepEqual(await through(sealed, decryptStream(key, 'copy')), plain, `round trip of ${n}`);
    }
  });

  test('the same dump under the same key encrypts to the same bytes (a retried upload can prove what it would send)', async () => {
    const plain = randomBytes(2 * CHUNK + 5);
    assert.deepEqual(await seal(plain), await seal(plain));
  });

  test('a flipped byte, a truncation, a dropped last chunk, an appended chunk, another key: refused', async () => {
    const plain = randomBytes(3 * CHUNK + 100);
    const sealed = await seal(plain);
    const flipped = Buffer.from(sealed);
    flipped[2 * CHUNK]! ^= 1;
    await assert.rejects(through(flipped, decryptStream(key, 'copy x')), /copy x does not authenticate at chunk 1/);
    await assert.rejects(through(sealed.subarray(0, sealed.length - 10), decryptStream(key, 'copy x')), /does not authenticate/);
    // Cut exactly at a chunk boundary: the new last chunk was not sealed as last.
    const frame = CHUNK + 16;
    await assert.rejects(through(sealed.subarray(0, 25 + 2 * frame), decryptStream(key, 'copy x')), /does not authenticate at chunk 1/);
    await assert.rejects(
      through(Buffer.concat([sealed, sealed.subarray(25, 25 + frame)]), decryptStream(key, 'copy x')),
      /does not authenticate/,
    );
    await assert.rejects(
      through(sealed, decryptStream(other, 'copy x')),
      new RegExp(`was encrypted with key ${key.id}, but the configured key is ${other.id}`),
    );
    await assert.rejects(through(Buffer.from('PGDMP plain dump'), decryptStream(key, 'copy x')), /truncated|not a day2-encrypted copy/);
  });

  test('a sealed manifest opens only with its key and for its copy, and not once a byte is flipped', () => {
    const plain = Buffer.from(JSON.stringify({ database: 'ledger_prod', appVersion: '1.0.0' }));
    const sealed = sealValue(key, plain, 'copy a');
    assert.match(sealed, new RegExp(`^DAY2SEAL1:${key.id}:[A-Za-z0-9+/=]+$`));
    assert.equal(sealed.includes('ledger_prod'), false);
    assert.deepEqual(openSealedValue(key, sealed, 'copy a', 'm'), plain);
    assert.notEqual(sealValue(key, plain, 'copy a'), sealed, 'a fresh nonce each time');
    assert.throws(
      () => openSealedValue(other, sealed, 'copy a', 'm'),
      new RegExp(`m was sealed with key ${key.id}, but the configured key is ${other.id}`),
    );
    assert.throws(() => openSealedValue(key, sealed, 'copy b', 'm'), /m does not authenticate \(altered, or moved from another copy\)/);
    const body = Buffer.from(sealed.split(':')[2]!, 'base64');
    body[20]! ^= 0x01;
    assert.throws(() => openSealedValue(key, `DAY2SEAL1:${key.id}:${body.toString('base64')}`, 'copy a', 'm'), /does not authenticate/);
  });

  test('a key that is not 32 bytes of hex or base64 is refused, saying how to make one', () => {
    assert.throws(
      () => parseEncryptionKey('too-short', 'OFFSITE_KEY in .env'),
      /OFFSITE_KEY in \.env is not a 32-byte key — write 64 hex digits or 44 characters of base64 \(e\.g\. `openssl rand -hex 32`\)/,
    );
  });
});
