// The vault signing key rotation end to end: the chain verifies across the old and new keys
// with the keyring day2 keeps beside the backups, and no private key leaks.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startE2E, type E2E } from '../harness/e2e';
import { addCanaryChecks, envSecrets, findLeaks } from '../harness/rotation';

let e2e: E2E;
let canary: string;
const cliOutput: string[] = [];
const keyring = () => path.join(e2e.deployment.backupDir, 'keyring.json');

async function signingKeyId(): Promise<string> {
  const res = await fetch(`${e2e.deployment.baseUrl}/conformance`);
  return ((await res.json()) as { signingKeyId: string }).signingKeyId;
}

async function appendEntry(): Promise<{ seq: number; keyId: string }> {
  const res = await fetch(`${e2e.deployment.baseUrl}/entries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${canary}`, 'content-type': 'application/json' },
    body: '{"after":"rotation"}',
  });
  assert.equal(res.status, 201);
  return (await res.json()) as { seq: number; keyId: string };
}

async function scan(...args: string[]) {
  const r = await e2e.deployment.ctl('scan', ...args);
  return { exitCode: r.exitCode, report: JSON.parse(r.stdout) as { ok: boolean; entries: number; keys: string[] } };
}

async function rotate(): Promise<void> {
  const r = await e2e.cli('rotate', 'vault-signing-key');
  cliOutput.push(r.stdout, r.stderr);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
}

before(async () => {
  e2e = await startE2E('sig');
  await e2e.startService(10);
  // The workflow's verify checks: append an entry through the restarted service, then the
  // deployment's own scan of the whole chain with the keyring.
  canary = await addCanaryChecks(e2e, ['append']);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('rotate vault-signing-key', () => {
  test('the chain verifies across both keys; the keyring holds the old public key; no private key leaks', async () => {
    const oldKey = (await envSecrets(e2e.deployment.envFile)).VAULT_SIGNING_KEY!;
    const oldId = await signingKeyId();

    const started = Date.now();
    await rotate();
    console.log(`signing-key rotation: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const newKey = (await envSecrets(e2e.deployment.envFile)).VAULT_SIGNING_KEY!;
    const newId = await signingKeyId();
    assert.notEqual(newKey, oldKey);
    assert.notEqual(newId, oldId);
    assert.equal(statSync(e2e.deployment.envFile).mode & 0o777, 0o600);

    const ring = JSON.parse(readFileSync(keyring(), 'utf8'));
    assert.equal(statSync(keyring()).mode & 0o777, 0o600);
    assert.equal(ring.keys.length, 1);
    assert.equal(ring.keys[0].keyId, oldId);
    assert.match(ring.keys[0].fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(ring.keys[0].from, null);
    assert.ok(Date.parse(ring.keys[0].to) <= Date.now());

    assert.equal((await appendEntry()).keyId, newId, 'new entries are signed with the new key');
    const across = await scan('--keyring', keyring());
    assert.equal(across.exitCode, 0);
    assert.equal(across.report.ok, true);
    assert.deepEqual(across.report.keys, [oldId, newId]);
    const withoutKeyring = await scan();
    assert.equal(withoutKeyring.exitCode, 1, 'the old entries need the keyring to verify');

    // A second rotation retires the second key; the keyring says when it took over.
    await rotate();
    const newestId = await signingKeyId();
    const ring2 = JSON.parse(readFileSync(keyring(), 'utf8'));
    assert.deepEqual(
      ring2.keys.map((k: { keyId: string }) => k.keyId),
      [oldId, newId],
    );
    assert.equal(ring2.keys[1].from, ring.keys[0].to);
    await appendEntry();
    assert.deepEqual((await scan('--keyring', keyring())).report.keys, [oldId, newId, newestId]);

    const newestKey = (await envSecrets(e2e.deployment.envFile)).VAULT_SIGNING_KEY!;
    assert.deepEqual(await findLeaks(e2e, cliOutput, [oldKey, newKey, newestKey, canary]), []);
  });
});
