// The AES-256-GCM payload codec and the codec server, without Temporal: round trip, key
// rotation, tampering, keyring errors, and the HTTP protocol the Web UI speaks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, CodecError, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { createCodecServer } from '../../src/codec/codec-server';
import { parseKeyring } from '../../src/codec/keys';
import { parseConfig } from '../../src/config';

const key = () => randomBytes(32).toString('base64');
const keyring = (current: string, keys: Record<string, string>) => parseKeyring(JSON.stringify({ current, keys }), 'test');
const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

const k1 = key();
const k2 = key();
const value = { deployment: 'ledger', file: 'ledger-2026-11-22-020000.dump', note: 'ünïcode ✓' };

describe('AES-GCM payload codec', () => {
  test('round trip: the stored payload is ciphertext with the key id in its metadata', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const plain = defaultPayloadConverter.toPayload(value);
    const [encrypted] = await codec.encode([plain]);
    assert.equal(text(encrypted!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encrypted!.metadata![KEY_ID_METADATA]), 'k1');
    assert.ok(!text(encrypted!.data).includes('ledger'), 'no plaintext in the stored bytes');
    const [decoded] = await codec.decode([encrypted!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), value);
    // Two encryptions of the same value differ (fresh IV each time).
    const [again] = await codec.encode([plain]);
    assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(encrypted!.data!));
  });

  test('unencrypted payloads pass through decode (histories written before the codec was on)', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const plain = defaultPayloadConverter.toPayload(value);
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  test('rotation: encrypt with the current key, decrypt with any key still in the keyring', async () => {
    const before = new AesGcmPayloadCodec(keyring('k1', { k1 }));
    const after = new AesGcmPayloadCodec(keyring('k2', { k1, k2 }));
    const [old] = await before.encode([defaultPayloadConverter.toPayload(value)]);
    const [fresh] = await after.encode([defaultPayloadConverter.toPayload(value)]);
    assert.equal(text(fresh!.metadata![KEY_ID_METADATA]), 'k2');
    const decoded = await after.decode([old!, fresh!]);
    assert.deepEqual(
      decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
      [value, value],
    );
  });

  test('a retired key no longer in the keyring: a clear error naming it', async () => {
    const [old] = await new AesGcmPayloadCodec(keyring('k1', { k1 })).encode([defaultPayloadConverter.toPayload(value)]);
    const later = new AesGcmPayloadCodec(keyring('k2', { k2 }));
    await assert.rejects(
      later.decode([old!]),
      (err: Error) => err instanceof CodecError && /codec key 'k1'.*does not hold.*k2/.test(err.message),
    );
  });

  test('tampering is detected: a flipped byte, a swapped key id, a wrong key under the same id, a truncated payload', async () => {
    const codec = new AesGcmPayloadCodec(keyring('k1', { k1, k2 }));
    const [good] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    const flipped = Buffer.from(good!.data!);
    flipped[20] = flipped[20]! ^ 0x01;
    const swappedId: Payload = { metadata: { ...good!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k2') }, data: good!.data };
    const otherKeySameId = new AesGcmPayloadCodec(keyring('k1', { k1: k2 }));
    const cases: Array<[string, Promise<unknown>]> = [
      ['flipped byte', codec.decode([{ ...good!, data: flipped }])],
      ['swapped key id', codec.decode([swappedId])],
      ['wrong key', otherKeySameId.decode([good!])],
      ['truncated', codec.decode([{ ...good!, data: good!.data!.subarray(0, 10) }])],
    ];
    for (const [what, attempt] of cases) {
      await assert.rejects(attempt, (err: Error) => err instanceof CodecError && /altered|too short/.test(err.message), what);
    }
  });
});

describe('codec keyring', () => {
  test('accepts JSON and the short <id>:<base64> form', () => {
    assert.equal(parseKeyring(`k9:${k1}`, 'env').currentKeyId, 'k9');
    assert.equal(keyring('a', { a: k1, b: k2 }).keys.size, 2);
  });

  test('refuses bad keyrings with a message that never shows key bytes', () => {
    const short = randomBytes(16).toString('base64');
    const cases: Array<[string, RegExp]> = [
      ['{not json', /not valid JSON/],
      [JSON.stringify({ current: 'x', keys: { a: k1 } }), /current key 'x' is not among the keys \(a\)/],
      [JSON.stringify({ current: 'a', keys: { a: short } }), /key 'a' is not 32 bytes/],
      [JSON.stringify({ current: 'a', keys: { a: 'not base64!!' } }), /key 'a' is not 32 bytes/],
      [JSON.stringify({ current: 'a b', keys: { 'a b': k1 } }), /key id/],
      [JSON.stringify({ current: 'a', keys: { a: k1 }, extra: 1 }), /unknown key/i],
      ['just-a-string', /expected keyring JSON/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseKeyring(input, 'src'),
        (err: Error) => {
          assert.match(err.message, message, input);
          assert.ok(!err.message.includes(short) && !err.message.includes(k1), 'key material in an error');
          return err.name === 'ConfigError';
        },
      );
    }
  });

  test('day2.yaml: temporal.codec takes exactly one of keyFile and keyEnv; keyFile is relative to day2.yaml', () => {
    const base = { deployments: {} };
    const withCodec = (codec: unknown) => parseConfig({ ...base, temporal: { codec } }, '/etc/day2');
    assert.equal(withCodec({ keyFile: 'codec-keys.json' }).temporal.codec?.keyFile, '/etc/day2/codec-keys.json');
    assert.equal(withCodec({ keyEnv: 'DAY2_CODEC_KEYS' }).temporal.codec?.keyEnv, 'DAY2_CODEC_KEYS');
    assert.throws(() => withCodec({}), /exactly one of keyFile or keyEnv/);
    assert.throws(() => withCodec({ keyFile: 'a', keyEnv: 'B' }), /exactly one of keyFile or keyEnv/);
    assert.throws(() => withCodec({ keyFile: 'a', password: 'x' }), /unknown key/);
  });
});

describe('codec server', () => {
  const codec = new AesGcmPayloadCodec(keyring('k1', { k1 }));
  const server = createCodecServer({ codecs: [codec], corsOrigins: ['http://127.0.0.1:8233'] });
  let base = '';
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('decode and encode speak the Web UI protocol', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
    const decoded = await post(
      '/decode',
      { payloads: [asJson(encrypted!)] },
      { 'X-Namespace': 'default', Origin: 'http://127.0.0.1:8233' },
    );
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    const body = (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    assert.equal(Buffer.from(body.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
    assert.deepEqual(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString()), value);

    const encoded = (await (await post('/encode', body)).json()) as { payloads: Array<{ metadata: Record<string, string> }> };
    assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
  });

  test('CORS preflight for the UI origin; other origins, paths and bodies are refused', async () => {
    const preflight = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:8233',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);

    assert.equal((await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' })).status, 403);
    assert.equal((await post('/nope', { payloads: [] })).status, 404);
    assert.equal((await fetch(`${base}/decode`)).status, 405);
    assert.equal((await fetch(`${base}/decode`, { method: 'POST', body: '{oops' })).status, 400);
    const [foreign] = await new AesGcmPayloadCodec(keyring('k7', { k7: key() })).encode([defaultPayloadConverter.toPayload(value)]);
    const unknownKey = await post('/decode', { payloads: [asJson(foreign!)] });
    assert.equal(unknownKey.status, 400);
    assert.match(((await unknownKey.json()) as { error: string }).error, /codec key 'k7'/);
  });
});
