// The API key secret rotation end to end: real Temporal, PostgreSQL, the ledger service,
// a worker process that gets killed, and the CLI as an operator runs it.
import assert from 'node:assert/strict';
import { GATES } from '../../src/domain/gate-names';
import { statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { fingerprint } from '../../src/activities/shared/secret-fingerprint';
import { startE2E, type E2E } from '../harness/e2e';
import {
  addCanaryChecks,
  createKey,
  envCopy,
  envSecrets,
  findLeaks,
  historyText,
  waitForGate,
  waitForProgress,
  waitForStep,
  whoami,
} from '../harness/rotation';

let e2e: E2E;
let canary: string;
const cliOutput: string[] = [];
/** Every secret value the tests saw: none may show up in history, logs or CLI output. */
const secretsSeen = new Set<string>();

async function cli(...args: string[]) {
  const r = await e2e.cli(...args);
  cliOutput.push(r.stdout, r.stderr);
  return r;
}

async function secrets() {
  const s = await envSecrets(e2e.deployment.envFile);
  for (const v of [s.API_KEY_SECRET, s.API_KEY_SECRET_PREVIOUS]) if (v) secretsSeen.add(v);
  return { current: s.API_KEY_SECRET!, previous: s.API_KEY_SECRET_PREVIOUS };
}

const status = (key: string) => whoami(e2e.deployment.baseUrl, key);

/** Keys still hashed under `secret`. */
async function keysUnder(secret: string): Promise<number> {
  const client = new pg.Client({ connectionString: e2e.deployment.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from api_keys where secret_fp = $1', [
      fingerprint(secret),
    ]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

async function approve(gate: string) {
  const r = await cli('approve', e2e.workflowId, '--gate', gate, '--reason', 'checked by the test');
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
}

before(async () => {
  e2e = await startE2E('rot');
  await e2e.startService(5);
  canary = await addCanaryChecks(e2e, ['whoami']);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('rotate api-key-secret', () => {
  test('full rotation: a key from before works after; the old secret alone no longer does; no secret leaks', async () => {
    const started = Date.now();
    const { current: oldSecret } = await secrets();
    const before = await createKey(e2e.deployment.envFile, 'made-before');
    assert.equal(await status(before), 200);

    const r = await cli('rotate', 'api-key-secret');
    assert.equal(r.exitCode, 4, `paused at the first gate: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`day2 approve ${e2e.workflowId} --gate ${GATES.verifyDualSecret}`));
    const dual = await secrets();
    assert.equal(dual.previous, oldSecret);
    assert.notEqual(dual.current, oldSecret);
    assert.match(dual.current, /^[0-9a-f]{64}$/);
    const newSecret = dual.current;
    assert.equal(statSync(e2e.deployment.envFile).mode & 0o777, 0o600);
    assert.equal(await status(before), 200, 'dual-secret mode: the old hash still works');
    assert.equal(await status(canary), 200);

    await approve(GATES.verifyDualSecret);
    await waitForGate(e2e, GATES.commitRotation);
    assert.equal(await keysUnder(oldSecret), 0, 'every key re-hashed under the new secret');
    // A key hashed under the old secret only (made with an env file that knows nothing else).
    const oldOnly = await createKey(
      envCopy(e2e, 'old-only', { API_KEY_SECRET: oldSecret, API_KEY_SECRET_PREVIOUS: undefined }),
      'old-only',
    );
    assert.equal(await status(oldOnly), 200, 'still accepted while both secrets are');

    await approve(GATES.commitRotation);
    const done = await cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);
    console.log(`full rotation: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const after = await secrets();
    assert.equal(after.current, newSecret);
    assert.equal(after.previous, undefined);
    assert.equal(statSync(e2e.deployment.envFile).mode & 0o777, 0o600);
    assert.equal(await status(before), 200, 'a key created before the rotation authenticates after it');
    assert.equal(await status(canary), 200);
    assert.equal(await status(oldOnly), 401, 'the old secret alone no longer authenticates');

    const history = await historyText(e2e);
    assert.ok(history.includes(fingerprint(newSecret)) && history.includes(fingerprint(oldSecret)), 'fingerprints are recorded');
    assert.deepEqual(await findLeaks(e2e, cliOutput, [oldSecret, newSecret, before, oldOnly, canary]), []);
  });

  test('a second rotation while one waits at a gate is refused, naming the first; rejecting rolls back', async () => {
    const { current: oldSecret } = await secrets();
    const r = await cli('rotate', 'api-key-secret', '--detach');
    assert.equal(r.exitCode, 0, r.stderr);
    await waitForGate(e2e, GATES.verifyDualSecret);
    const { current: newSecret } = await secrets();

    for (const kind of ['api-key-secret', 'vault-signing-key']) {
      const second = await cli('rotate', kind);
      assert.equal(second.exitCode, 3, second.stdout + second.stderr);
      assert.match(second.stderr, /busy: rotateApiKeySecret is waiting at gate 'verify-dual-secret' \(workflow day2-rot/);
    }
    // A key made during the window is hashed under the new secret: the rollback must keep it.
    const during = await createKey(e2e.deployment.envFile, 'made-during');
    assert.equal(await status(during), 200);

    const rejected = await cli('reject', e2e.workflowId, '--reason', 'integration X fails');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    const done = await cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 5, done.stdout + done.stderr);
    assert.match(done.stdout, /rolled back to the previous secret/);

    const back = await secrets();
    assert.equal(back.current, oldSecret);
    assert.equal(back.previous, undefined);
    assert.equal(await keysUnder(newSecret), 0, 'every key is back under the old secret');
    assert.equal(await status(canary), 200, 'the service works as before');
    assert.equal(await status(during), 200, 'no key was lost');
    const entry = await fetch(`${e2e.deployment.baseUrl}/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${canary}`, 'content-type': 'application/json' },
      body: '{"after":"rollback"}',
    });
    assert.equal(entry.status, 201);
    assert.deepEqual(await findLeaks(e2e, cliOutput, [oldSecret, newSecret, during]), []);
  });

  test('rejecting at commit-rotation keeps dual-secret mode and says what to do; rotating again finishes it', async () => {
    const { current: oldSecret } = await secrets();
    const r = await cli('rotate', 'api-key-secret', '--detach');
    assert.equal(r.exitCode, 0, r.stderr);
    await waitForGate(e2e, GATES.verifyDualSecret);
    await approve(GATES.verifyDualSecret);
    await waitForGate(e2e, GATES.commitRotation);
    const rejected = await cli('reject', e2e.workflowId, '--reason', 'a partner still uses an old key');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    const done = await cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 5, done.stdout + done.stderr);
    assert.match(done.stdout, /stays in dual-secret mode/);
    assert.match(done.stdout, /run `day2 rotate api-key-secret --deployment rot` again/);

    const dual = await secrets();
    assert.equal(dual.previous, oldSecret, 'both secrets still accepted');
    assert.equal(await keysUnder(oldSecret), 0);
    assert.equal(await status(canary), 200);

    // Running it again carries on from the env file: same new secret, then the commit.
    const again = await cli('rotate', 'api-key-secret');
    assert.equal(again.exitCode, 4, again.stdout + again.stderr);
    assert.match(again.stdout, /already in dual-secret mode: carrying on/);
    assert.deepEqual(await secrets(), dual);
    await approve(GATES.verifyDualSecret);
    await waitForGate(e2e, GATES.commitRotation);
    await approve(GATES.commitRotation);
    const finished = await cli('status', e2e.workflowId, '--follow');
    assert.equal(finished.exitCode, 0, finished.stdout + finished.stderr);
    assert.deepEqual(await secrets(), { current: dual.current, previous: undefined });
    assert.equal(await status(canary), 200);
  });

  test('day2 cancel at verify-dual-secret rolls back and ends cancelled', async () => {
    const { current: oldSecret } = await secrets();
    const r = await cli('rotate', 'api-key-secret', '--detach');
    assert.equal(r.exitCode, 0, r.stderr);
    await waitForGate(e2e, GATES.verifyDualSecret);
    const cancelled = await cli('cancel', e2e.workflowId);
    assert.equal(cancelled.exitCode, 0, cancelled.stdout + cancelled.stderr);
    const progress = await waitForProgress(e2e, 'a cancelled outcome', (p) => Boolean(p.outcome));
    assert.match(progress.outcome!, /cancelled.*rolled back to the previous secret/);
    const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
    for (let i = 0; i < 100 && (await handle.describe()).status.name === 'RUNNING'; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.deepEqual(await secrets(), { current: oldSecret, previous: undefined });
    assert.equal(await status(canary), 200);
  });

  test('worker killed during each restart and the re-hash: the rotation finishes, every key works under the new secret', async () => {
    const started = Date.now();
    const { current: oldSecret } = await secrets();
    const keys = [canary, await createKey(e2e.deployment.envFile, 'before-kills')];
    const r = await cli('rotate', 'api-key-secret', '--detach');
    assert.equal(r.exitCode, 0, r.stderr);

    const killDuring = async (step: string) => {
      await waitForStep(e2e, step, 'running');
      await e2e.worker!.kill();
      await e2e.startWorker();
    };
    await killDuring('Restart in dual-secret mode');
    await waitForGate(e2e, GATES.verifyDualSecret);
    await approve(GATES.verifyDualSecret);
    await killDuring('Re-hash API keys');
    await killDuring('Restart and verify');
    await waitForGate(e2e, GATES.commitRotation);
    await approve(GATES.commitRotation);
    await killDuring('Remove previous secret and restart');
    const done = await cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);
    console.log(`rotation with 4 worker kills: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const { current: newSecret, previous } = await secrets();
    assert.notEqual(newSecret, oldSecret);
    assert.equal(previous, undefined);
    assert.equal(await keysUnder(oldSecret), 0, 'no key left under the old secret');
    for (const key of keys) assert.equal(await status(key), 200);
    assert.deepEqual(await findLeaks(e2e, cliOutput, [...secretsSeen, ...keys]), []);
  });
});
