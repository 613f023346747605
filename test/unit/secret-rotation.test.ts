// The rotations' file edits without Temporal: each step idempotent, only fingerprints out,
// modes kept, and what the PEM format writes is what the ledger reads back.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseEnvFile as ledgerParseEnv } from '../../examples/ledger/src/env-file';
import { loadSigningKey } from '../../examples/ledger/src/signing-key';
import {
  beginApiKeyRotation,
  removePreviousApiKeySecret,
  restorePreviousApiKeySecret,
} from '../../src/activities/secrets/api-key-rotation';
import { readEnvFile } from '../../src/envfile';
import { fingerprint } from '../../src/activities/shared/secret-fingerprint';
import { decodePrivateKey, generateSigningKey, encodePrivateKey, publicKeyInfo } from '../../src/activities/secrets/signing-key-material';
import { rotateSigningKeyIn } from '../../src/activities/secrets/signing-key-rotation';

const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-rotation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OLD = 'a'.repeat(64);
let n = 0;
function envFile(text: string, mode = 0o640): string {
  const file = path.join(dir, `env-${++n}`);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}
const varsOf = (file: string) => ({ file, currentVar: 'API_KEY_SECRET', previousVar: 'API_KEY_SECRET_PREVIOUS' });

describe('API key secret rotation edits', () => {
  it('begin writes previous + new in one edit, returns fingerprints only, keeps mode and other lines', async () => {
    const file = envFile(`# keep me\nAPI_KEY_SECRET=${OLD}\nPORT=1\n`);
    const r = await beginApiKeyRotation(varsOf(file));
    const env = await readEnvFile(file);
    const next = env.get('API_KEY_SECRET')!;
    assert.match(next, /^[0-9a-f]{64}$/);
    assert.equal(env.get('API_KEY_SECRET_PREVIOUS'), OLD);
    assert.deepEqual(r, { previousFp: fingerprint(OLD), currentFp: fingerprint(next), resumed: false });
    assert.ok(!JSON.stringify(r).includes(OLD) && !JSON.stringify(r).includes(next));
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.match(readFileSync(file, 'utf8'), /^# keep me\n/);

    // A retry (or a second workflow) finds dual-secret mode and carries on with the same pair.
    assert.deepEqual(await beginApiKeyRotation(varsOf(file)), { ...r, resumed: true });
    assert.equal((await readEnvFile(file)).get('API_KEY_SECRET'), next);
  });

  it('refuses when there is no secret to rotate, touching nothing', async () => {
    const file = envFile('PORT=1\n');
    await assert.rejects(beginApiKeyRotation(varsOf(file)), /API_KEY_SECRET is not set/);
    assert.equal(readFileSync(file, 'utf8'), 'PORT=1\n');
  });

  it('rollback swaps back (twice is once), then dropping the new secret leaves the old one alone', async () => {
    const file = envFile(`API_KEY_SECRET=${OLD}\n`);
    const pair = await beginApiKeyRotation(varsOf(file));
    assert.deepEqual(await restorePreviousApiKeySecret(varsOf(file), pair), { changed: true });
    assert.deepEqual(await restorePreviousApiKeySecret(varsOf(file), pair), { changed: false });
    let env = await readEnvFile(file);
    assert.equal(env.get('API_KEY_SECRET'), OLD);
    assert.equal(fingerprint(env.get('API_KEY_SECRET_PREVIOUS')!), pair.currentFp);
    assert.deepEqual(await removePreviousApiKeySecret(varsOf(file), pair.previousFp), { removed: true });
    assert.deepEqual(await removePreviousApiKeySecret(varsOf(file), pair.previousFp), { removed: false });
    env = await readEnvFile(file);
    assert.deepEqual([...env.keys()], ['API_KEY_SECRET']);
    assert.equal(env.get('API_KEY_SECRET'), OLD);
    assert.deepEqual(await restorePreviousApiKeySecret(varsOf(file), pair), { changed: false }, 'a finished rollback is done');
  });

  it('refuses to drop a secret when the current one is not the one meant to stay', async () => {
    const file = envFile(`API_KEY_SECRET=${OLD}\n`);
    const pair = await beginApiKeyRotation(varsOf(file));
    await assert.rejects(removePreviousApiKeySecret(varsOf(file), pair.previousFp), (err: Error) => {
      assert.match(err.message, /no longer matches/);
      assert.ok(!err.message.includes(OLD));
      return true;
    });
    assert.equal((await readEnvFile(file)).get('API_KEY_SECRET_PREVIOUS'), OLD);
  });
});

describe('signing key rotation', () => {
  const target = (file: string, format: 'pkcs8-der-base64' | 'pem' = 'pkcs8-der-base64') => ({
    envFile: file,
    varName: 'VAULT_SIGNING_KEY',
    format,
    keyringFile: path.join(dir, `keyring-${n}`, 'keyring.json'),
  });

  it('keeps the old public key (0600, tagged with the rotation), writes a new key; a retry changes nothing', async () => {
    const old = generateSigningKey();
    const oldValue = encodePrivateKey(old, 'pkcs8-der-base64');
    const file = envFile(`VAULT_SIGNING_KEY=${oldValue}\n`, 0o600);
    const t = target(file);
    const r = await rotateSigningKeyIn(t, 'day2-x/run-1', new Date('2026-01-01T00:00:00Z'));
    const newValue = (await readEnvFile(file)).get('VAULT_SIGNING_KEY')!;
    assert.notEqual(newValue, oldValue);
    assert.equal(r.oldKeyId, publicKeyInfo(old).keyId);
    assert.equal(r.newKeyId, publicKeyInfo(decodePrivateKey(newValue, 'VAULT_SIGNING_KEY')).keyId);
    assert.ok(!JSON.stringify(r).includes(newValue) && !JSON.stringify(r).includes(oldValue));

    const keyring = JSON.parse(readFileSync(t.keyringFile, 'utf8'));
    assert.equal(statSync(t.keyringFile).mode & 0o777, 0o600);
    assert.deepEqual(keyring.keys, [{ ...publicKeyInfo(old), from: null, to: '2026-01-01T00:00:00.000Z', rotationId: 'day2-x/run-1' }]);
    assert.equal(
      createPublicKey({ key: Buffer.from(keyring.keys[0].publicKey, 'base64'), format: 'der', type: 'spki' }).export({
        format: 'pem',
        type: 'spki',
      }),
      createPublicKey(old).export({ format: 'pem', type: 'spki' }),
    );

    assert.deepEqual(await rotateSigningKeyIn(t, 'day2-x/run-1'), r, 'the same rotation again is a no-op');
    assert.equal((await readEnvFile(file)).get('VAULT_SIGNING_KEY'), newValue);
    assert.equal(JSON.parse(readFileSync(t.keyringFile, 'utf8')).keys.length, 1);

    // The next rotation records when the key it retires took over.
    const r2 = await rotateSigningKeyIn(t, 'day2-x/run-2', new Date('2026-02-01T00:00:00Z'));
    assert.equal(r2.oldKeyId, r.newKeyId);
    const keys = JSON.parse(readFileSync(t.keyringFile, 'utf8')).keys;
    assert.deepEqual(
      keys.map((k: { keyId: string; from: string | null }) => [k.keyId, k.from]),
      [
        [r.oldKeyId, null],
        [r.newKeyId, '2026-01-01T00:00:00.000Z'],
      ],
    );
  });

  it('a crash between the keyring and the env file: the retry writes the key, the keyring keeps one entry', async () => {
    const old = generateSigningKey();
    const file = envFile(`VAULT_SIGNING_KEY=${encodePrivateKey(old, 'pkcs8-der-base64')}\n`, 0o600);
    const t = target(file);
    // Simulate the first attempt having written only the keyring.
    const first = await rotateSigningKeyIn(t, 'day2-y/run-1');
    writeFileSync(file, `VAULT_SIGNING_KEY=${encodePrivateKey(old, 'pkcs8-der-base64')}\n`);
    const retry = await rotateSigningKeyIn(t, 'day2-y/run-1');
    assert.equal(retry.oldKeyId, first.oldKeyId);
    assert.notEqual(retry.newKeyId, retry.oldKeyId);
    assert.equal(JSON.parse(readFileSync(t.keyringFile, 'utf8')).keys.length, 1);
  });

  it('PEM format: one line in the env file that the ledger loads', async () => {
    const file = envFile(`VAULT_SIGNING_KEY=${encodePrivateKey(generateSigningKey(), 'pkcs8-der-base64')}\n`, 0o600);
    const r = await rotateSigningKeyIn(target(file, 'pem'), 'day2-z/run-1');
    const text = readFileSync(file, 'utf8');
    assert.equal(text.trimEnd().split('\n').length, 1);
    const ledgerKey = loadSigningKey(ledgerParseEnv(text).get('VAULT_SIGNING_KEY'));
    assert.equal(ledgerKey.keyId, r.newKeyId);
    assert.equal(publicKeyInfo(decodePrivateKey((await readEnvFile(file)).get('VAULT_SIGNING_KEY')!, 'X')).keyId, r.newKeyId);
  });

  it('an unreadable key is refused without quoting it', async () => {
    const file = envFile('VAULT_SIGNING_KEY=not-a-key-value-xyz\n', 0o600);
    await assert.rejects(rotateSigningKeyIn(target(file), 'r'), (err: Error) => !err.message.includes('not-a-key-value-xyz'));
  });
});
