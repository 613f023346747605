// The sample ledger service (examples/ledger) as a real process: migrations per release,
// readiness rules, the deprecated-variable refusal, API key rotation, and the vault scan.
// Run: node --import tsx --test test/e2e/ledger-service.test.ts
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import {
  createLedgerDeployment,
  newApiKeySecret,
  newSigningKey,
  type CtlResult,
  type EnvVars,
  type LedgerDeployment,
} from '../../examples/ledger/testing/ledger-deployment';
import { parseEnvFile } from '../../examples/ledger/src/env-file';
import { freePort } from '../harness/free-port';
import { startPostgres, type PostgresCluster } from '../harness/postgres';

let cluster: PostgresCluster | undefined;
const deployments: LedgerDeployment[] = [];

before(async () => {
  cluster = await startPostgres();
});

after(async () => {
  for (const deployment of deployments) {
    await deployment.ctl('stop').catch(() => {});
    killFromPidfiles(deployment); // in case ctl itself is what broke
    rmSync(deployment.dir, { recursive: true, force: true });
  }
  await cluster?.stop();
});

function killFromPidfiles(deployment: LedgerDeployment): void {
  for (const service of ['api', 'worker']) {
    const pidfile = path.join(deployment.dir, 'run', `${service}.pid`);
    if (!existsSync(pidfile)) continue;
    try {
      process.kill(-Number(readFileSync(pidfile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function deploy(name: string, version: string, extraEnv: EnvVars = {}): Promise<LedgerDeployment> {
  if (!cluster) throw new Error('PostgreSQL did not start');
  const databaseUrl = await cluster.createDatabase(name);
  const deployment = createLedgerDeployment({ databaseUrl, port: await freePort(), version, extraEnv });
  deployments.push(deployment);
  return deployment;
}

async function sql<R extends pg.QueryResultRow>(deployment: LedgerDeployment, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: deployment.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Asserts a ctl call succeeded; stderr (never secret) explains a failure. */
async function ctlOk(deployment: LedgerDeployment, ...args: string[]): Promise<CtlResult> {
  const result = await deployment.ctl(...args);
  assert.equal(result.exitCode, 0, `ctl ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

async function restartApi(deployment: LedgerDeployment): Promise<void> {
  await ctlOk(deployment, 'stop', '--service', 'api');
  await ctlOk(deployment, 'start', '--service', 'api');
}

/** Polls readiness for `ms` and returns every answer (to show it never became ready). */
async function readinessOver(deployment: LedgerDeployment, ms: number) {
  const answers = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    answers.push(await deployment.http('GET', '/health/ready'));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return answers;
}

function logsOf(deployment: LedgerDeployment): string {
  return ['api', 'worker']
    .map((s) => path.join(deployment.dir, 'run', `${s}.log`))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** Fails with a message that names the place, never the secret. */
function assertNoSecrets(where: string, text: string, secrets: (string | undefined)[]): void {
  for (const secret of secrets) {
    if (secret) assert.ok(!text.includes(secret), `a secret appeared in ${where}`);
  }
}

function keyIdOfPrivateKey(base64Pkcs8: string): string {
  const privateKey = createPrivateKey({ key: Buffer.from(base64Pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 12);
}

test('the env file parser ignores comments and blank lines, quotes are optional', () => {
  const vars = parseEnvFile(
    [
      '# comment',
      '',
      'PORT=8080 # the api',
      'export LEDGER_VERSION="1.2.0"',
      "NAME='a # b' # trailing",
      '# LEDGER_LEGACY_AUTH=true',
      'EMPTY=',
      'URL=postgres://u:p@h:5432/db?sslmode=disable',
    ].join('\n'),
  );
  assert.deepEqual(Object.fromEntries(vars), {
    PORT: '8080',
    LEDGER_VERSION: '1.2.0',
    NAME: 'a # b',
    EMPTY: '',
    URL: 'postgres://u:p@h:5432/db?sslmode=disable',
  });
});

test('migrate 1.0.0 then start as 1.0.0: ready, and every control command is idempotent', async () => {
  const d = await deploy('ledger_basic', '1.0.0');

  const first = JSON.parse((await ctlOk(d, 'migrate', '1.0.0')).stdout);
  assert.deepEqual(first.applied, ['0001_migration_log', '0002_entries', '0003_api_keys']);
  const second = JSON.parse((await ctlOk(d, 'migrate', '1.0.0')).stdout);
  assert.deepEqual(second.applied, []);
  const log = await sql<{ target_release: string }>(d, 'SELECT target_release FROM migration_log');
  assert.deepEqual(log, [{ target_release: '1.0.0' }]);

  await ctlOk(d, 'start');
  const again = await ctlOk(d, 'start');
  assert.match(again.stderr, /already running/);
  const ready = await d.waitReady();
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  assert.equal(ready.body.ready, true);
  assert.deepEqual((await d.http('GET', '/health')).body.status, 'ok');

  const conformance = await d.http('GET', '/conformance');
  assert.equal(conformance.body.version, '1.0.0');
  assert.deepEqual(conformance.body.schema, first.applied);
  assert.equal(conformance.body.dualSecret, false);
  assert.equal(conformance.body.signingKeyId, keyIdOfPrivateKey(d.env.VAULT_SIGNING_KEY ?? ''));
  const metrics = await d.http('GET', '/metrics');
  assert.match(metrics.body, /^ledger_ready 1$/m);
  assert.match(metrics.body, /^ledger_entries_total 0$/m);

  const status = JSON.parse((await ctlOk(d, 'status')).stdout);
  assert.equal(status.api.running, true);
  assert.equal(status.worker.running, true);
  assert.equal((await ctlOk(d, 'version')).stdout.trim(), '1.0.0');

  await ctlOk(d, 'stop');
  await ctlOk(d, 'stop');
  const stopped = JSON.parse((await ctlOk(d, 'status')).stdout);
  assert.deepEqual(stopped, { api: { running: false, pid: null }, worker: { running: false, pid: null } });

  // A pidfile whose process is gone is cleaned up, not trusted.
  const pidfile = path.join(d.dir, 'run', 'api.pid');
  writeFileSync(pidfile, '4194000\n');
  assert.equal(JSON.parse((await ctlOk(d, 'status')).stdout).api.running, false);
  assert.equal(existsSync(pidfile), false);
});

test('concurrent migrates apply each migration once', async () => {
  const d = await deploy('ledger_concurrent', '1.2.0');
  const results = await Promise.all([d.ctl('migrate', '1.2.0'), d.ctl('migrate', '1.2.0')]);
  for (const r of results) assert.equal(r.exitCode, 0, r.stderr);
  const applied = results.map((r) => JSON.parse(r.stdout).applied.length).sort();
  assert.deepEqual(applied, [0, 5]);
  const log = await sql<{ n: number }>(d, 'SELECT count(*)::int AS n FROM migration_log');
  assert.equal(log[0]?.n, 1);
});

test('a release started on a database without its migrations is not ready until migrated', async () => {
  const d = await deploy('ledger_pending', '1.2.0');
  await ctlOk(d, 'start', '--service', 'api');
  const answer = await d.http('GET', '/health/ready');
  assert.equal(answer.status, 503);
  assert.match(answer.body.reason, /migrations pending: run migrate 1\.2\.0/);

  await ctlOk(d, 'migrate', '1.0.0');
  assert.equal((await d.http('GET', '/health/ready')).status, 503);
  await ctlOk(d, 'migrate', '1.2.0');
  assert.equal((await d.waitReady()).status, 200);
  await ctlOk(d, 'stop');
});

test('1.2.0 backfills entries.payload_bytes and sets it on new entries', async () => {
  const d = await deploy('ledger_backfill', '1.0.0');
  await ctlOk(d, 'migrate', '1.0.0');
  await ctlOk(d, 'seed', '--entries', '5');

  const upgrade = JSON.parse((await ctlOk(d, 'migrate', '1.2.0')).stdout);
  assert.deepEqual(upgrade.applied, ['0004_audit_events', '0005_entries_payload_bytes']);
  d.updateEnv({ LEDGER_VERSION: '1.2.0' });
  await ctlOk(d, 'seed', '--entries', '3');

  const rows = await sql<{ seq: string; payload_bytes: number | null; expected: number }>(
    d,
    'SELECT seq, payload_bytes, octet_length(payload::text) AS expected FROM entries ORDER BY seq',
  );
  assert.equal(rows.length, 8);
  for (const row of rows) assert.equal(row.payload_bytes, row.expected, `entry ${row.seq}`);
  assert.equal(JSON.parse((await ctlOk(d, 'scan')).stdout).ok, true);
});

test('1.3.0 migrates but is never ready; the previous release serves its newer schema', async () => {
  const d = await deploy('ledger_broken', '1.3.0');
  await ctlOk(d, 'migrate', '1.3.0');
  await ctlOk(d, 'start', '--service', 'api');
  assert.equal((await d.http('GET', '/health')).status, 200);
  for (const answer of await readinessOver(d, 2_000)) {
    assert.equal(answer.status, 503);
    assert.equal(answer.body.ready, false);
    assert.match(answer.body.reason, /^release 1\.3\.0 is broken: /);
  }
  assert.match((await d.http('GET', '/metrics')).body, /^ledger_ready 0$/m);

  // Rolling back the binary (not the schema): 1.2.0 is forward-compatible with it.
  d.updateEnv({ LEDGER_VERSION: '1.2.0' });
  await restartApi(d);
  assert.equal((await d.waitReady()).status, 200);
  assert.equal((await d.http('GET', '/conformance')).body.version, '1.2.0');
  await ctlOk(d, 'stop');
});

test('LEDGER_LEGACY_AUTH makes 1.2.0 refuse to start; 1.1.0 ignores it', async () => {
  const d = await deploy('ledger_legacy', '1.2.0', { LEDGER_LEGACY_AUTH: 'true' });
  await ctlOk(d, 'migrate', '1.2.0');
  const refused = await d.ctl('start');
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /LEDGER_LEGACY_AUTH is deprecated/);
  assert.equal(JSON.parse((await ctlOk(d, 'status')).stdout).api.running, false);

  d.updateEnv({ LEDGER_VERSION: '1.1.0' });
  await ctlOk(d, 'start');
  assert.equal((await d.waitReady()).status, 200);
  await ctlOk(d, 'stop');

  d.updateEnv({ LEDGER_VERSION: '9.9.9', LEDGER_LEGACY_AUTH: undefined });
  const unknown = await d.ctl('start', '--service', 'api');
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.stderr, /unknown release 9\.9\.9/);
});

test('pull and present track releases; unknown releases and a down registry fail', async () => {
  const d = await deploy('ledger_pull', '1.0.0');
  const unknown = await d.ctl('pull', '9.9.9');
  assert.equal(unknown.exitCode, 1);
  assert.match(unknown.stderr, /unknown release 9\.9\.9 \(known: 1\.0\.0, 1\.1\.0, 1\.2\.0, 1\.3\.0\)/);
  assert.equal((await d.ctl('present', '1.2.0')).exitCode, 1);
  await ctlOk(d, 'pull', '1.2.0');
  await ctlOk(d, 'pull', '1.2.0');
  await ctlOk(d, 'present', '1.2.0');

  writeFileSync(path.join(d.dir, 'run', 'registry-down'), '');
  const down = await d.ctl('pull', '1.1.0');
  assert.equal(down.exitCode, 1);
  assert.match(down.stderr, /registry unreachable/);
  await ctlOk(d, 'present', '1.2.0');
  assert.equal((await d.ctl('present', '1.1.0')).exitCode, 1);
  assert.equal((await d.ctl('migrate', '9.9.9')).exitCode, 1);
});

test('API keys survive a dual-secret rotation and die with a secret that is gone', async () => {
  const d = await deploy('ledger_keys', '1.2.0');
  const originalSecret = d.env.API_KEY_SECRET;
  await ctlOk(d, 'migrate', '1.2.0');
  await ctlOk(d, 'start', '--service', 'api');
  const key = (await ctlOk(d, 'create-key', '--name', 'integration')).stdout.trim();
  assert.ok(/^lk_[0-9a-f]{16}_[0-9a-f]{64}$/.test(key), 'create-key prints exactly one key');
  assert.equal((await d.waitReady()).status, 200);

  const whoami = await d.http('GET', '/whoami', { key });
  assert.equal(whoami.status, 200);
  assert.equal(whoami.body.name, 'integration');
  assert.equal((await d.http('GET', '/whoami')).status, 401);
  assert.equal((await d.http('GET', '/whoami', { key: 'lk_nonsense' })).status, 401);
  const wrongSecretPart = key.slice(0, -1) + (key.endsWith('0') ? '1' : '0');
  assert.equal((await d.http('GET', '/whoami', { key: wrongSecretPart })).status, 401);
  const posted = await d.http('POST', '/entries', { key, body: { amount: 5 } });
  assert.equal(posted.status, 201);
  assert.equal(posted.body.seq, 1);
  assert.equal((await d.http('POST', '/entries', { body: { amount: 5 } })).status, 401);

  // Steps 1–3: previous = old, current = new, restart in dual-secret mode.
  const newSecret = newApiKeySecret();
  d.updateEnv({ API_KEY_SECRET_PREVIOUS: originalSecret, API_KEY_SECRET: newSecret });
  await restartApi(d);
  assert.equal((await d.waitReady()).status, 200);
  assert.equal((await d.http('GET', '/conformance')).body.dualSecret, true);
  assert.equal((await d.http('GET', '/whoami', { key })).status, 200);

  // Step 4: re-hash, twice (idempotent).
  assert.deepEqual(JSON.parse((await ctlOk(d, 'rehash-keys')).stdout), { rehashed: 1, remaining: 0 });
  assert.deepEqual(JSON.parse((await ctlOk(d, 'rehash-keys')).stdout), { rehashed: 0, remaining: 0 });
  assert.equal((await d.http('GET', '/whoami', { key })).status, 200);

  // Step 6: drop the previous secret; the re-hashed key still works.
  d.updateEnv({ API_KEY_SECRET_PREVIOUS: undefined });
  await restartApi(d);
  assert.equal((await d.http('GET', '/conformance')).body.dualSecret, false);
  assert.equal((await d.http('GET', '/whoami', { key })).status, 200);
  assert.deepEqual(JSON.parse((await ctlOk(d, 'rehash-keys')).stdout), { rehashed: 0, remaining: 0 });

  // A secret replaced without a rotation window: keys hashed under it stop working, and
  // rehash-keys refuses rather than pretend.
  d.updateEnv({ API_KEY_SECRET: newApiKeySecret() });
  await restartApi(d);
  assert.equal((await d.http('GET', '/whoami', { key })).status, 401);
  const refused = await d.ctl('rehash-keys');
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, /API_KEY_SECRET_PREVIOUS is not set/);

  await ctlOk(d, 'stop');
  const secrets = [originalSecret, newSecret, d.env.API_KEY_SECRET, d.env.VAULT_SIGNING_KEY, key];
  assertNoSecrets('the service logs', logsOf(d), secrets);
  assertNoSecrets('rehash-keys output', refused.stdout + refused.stderr, secrets);
});

test('scan verifies the vault, finds a tampered entry, and accepts retired keys from a keyring', async () => {
  const d = await deploy('ledger_scan', '1.2.0');
  await ctlOk(d, 'migrate', '1.2.0');
  await ctlOk(d, 'seed', '--entries', '10');
  const oldKeyId = keyIdOfPrivateKey(d.env.VAULT_SIGNING_KEY ?? '');
  const clean = JSON.parse((await ctlOk(d, 'scan')).stdout);
  assert.deepEqual(clean, { ok: true, entries: 10, keys: [oldKeyId], broken: [] });
  const keyring = path.join(d.dir, 'keyring.json');
  // No keyring before the first rotation: nothing retired yet, not an error.
  assert.equal(JSON.parse((await ctlOk(d, 'scan', '--keyring', keyring)).stdout).ok, true);

  const [original] = await sql<{ payload: string }>(d, 'SELECT payload::text AS payload FROM entries WHERE seq = 5');
  await sql(d, `UPDATE entries SET payload = '{"n": 5, "note": "tampered"}' WHERE seq = 5`);
  const tampered = await d.ctl('scan');
  assert.equal(tampered.exitCode, 1);
  const report = JSON.parse(tampered.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.broken.map((b: { seq: number }) => b.seq),
    [5],
  );
  assert.match(report.broken[0].reason, /hash mismatch/);
  await sql(d, `UPDATE entries SET payload = '${original?.payload}' WHERE seq = 5`);
  await ctlOk(d, 'scan');

  // Signing-key rotation: new entries under the new key; the old one only in the keyring.
  const oldPrivateKey = d.env.VAULT_SIGNING_KEY ?? '';
  const newKey = newSigningKey();
  d.updateEnv({ VAULT_SIGNING_KEY: newKey.privateKey });
  await ctlOk(d, 'seed', '--entries', '3');
  const withoutKeyring = await d.ctl('scan');
  assert.equal(withoutKeyring.exitCode, 1);
  const unknown = JSON.parse(withoutKeyring.stdout);
  assert.equal(unknown.broken.length, 10);
  assert.equal(unknown.broken[0].reason, `unknown signing key ${oldKeyId}`);

  const oldPublicKey = createPublicKey(createPrivateKey({ key: Buffer.from(oldPrivateKey, 'base64'), format: 'der', type: 'pkcs8' }))
    .export({ format: 'der', type: 'spki' })
    .toString('base64');
  const retired = {
    keyId: oldKeyId,
    publicKey: oldPublicKey,
    fingerprint: oldKeyId,
    from: '2024-01-01T00:00:00Z',
    to: new Date().toISOString(),
    note: 'extra fields are fine',
  };
  writeFileSync(keyring, JSON.stringify({ keys: [retired] }));
  const rotated = JSON.parse((await ctlOk(d, 'scan', '--keyring', keyring)).stdout);
  assert.deepEqual(rotated, { ok: true, entries: 13, keys: [oldKeyId, keyIdOfPrivateKey(newKey.privateKey)], broken: [] });

  // A forged signature is caught even when the key is known.
  await sql(d, `UPDATE entries SET signature = (SELECT signature FROM entries WHERE seq = 2) WHERE seq = 3`);
  const forged = await d.ctl('scan', '--keyring', keyring);
  assert.equal(forged.exitCode, 1);
  assert.deepEqual(JSON.parse(forged.stdout).broken, [{ seq: 3, reason: `bad signature for key ${oldKeyId}` }]);
  assertNoSecrets('scan output', forged.stdout + forged.stderr, [oldPrivateKey, newKey.privateKey]);
});
