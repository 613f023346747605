// `day2 support-bundle` end to end against the real ledger deployment, and its parts: the
// env file redaction, the log tail, and the activity's idempotency. The bundle is unpacked
// and read as a support engineer would; no secret the deployment holds may be in it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tar from 'tar';
import { parseEnvFile } from '../../src/envfile';
import { redactEnvFile, scrubSecrets } from '../../src/activities/shared/redact';
import { supportBundleActivities, supportBundleDir } from '../../src/activities/bundle';
import { tailLines } from '../../src/activities/shared/tail-lines';
import { supportBundleFileName } from '../../src/domain/support-bundle-names';
import type { SupportBundleInput, SupportBundleResult } from '../../src/domain/types';
import { createLogger } from '../../src/logger';
import { startE2E, type E2E } from '../harness/e2e';
import { filesUnder, recordTestSecrets } from '../harness/secret-scan';
import { activityDeps } from '../../src/activities/shared/deps';

describe('env file redaction', () => {
  const text = [
    '# settings',
    'DATABASE_URL=postgres://app:s3cret-pass@db:5432/ledger',
    'PORT=8080',
    "API_KEY_SECRET='0123456789abcdef0123456789abcdef' # rotated quarterly",
    '# OLD_TOKEN=tok-1234567890',
    'export OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:pw123456@collector:4318',
    'CACHE=redis://cache:6379',
    'EMPTY_PASSWORD=',
    'MY_CONN=whatever',
    '',
  ].join('\n');

  test('replaces secrets, connection strings and commented-out secrets; keeps every other line', () => {
    const { text: out, redacted, secrets } = redactEnvFile(text, ['MY_CONN']);
    assert.deepEqual(out.split('\n'), [
      '# settings',
      'DATABASE_URL=[REDACTED]',
      'PORT=8080',
      'API_KEY_SECRET=[REDACTED]',
      '# OLD_TOKEN=[REDACTED]',
      'export OTEL_EXPORTER_OTLP_ENDPOINT=http://[REDACTED]@collector:4318',
      'CACHE=[REDACTED]',
      'EMPTY_PASSWORD=',
      'MY_CONN=[REDACTED]',
      '',
    ]);
    assert.deepEqual(redacted, ['DATABASE_URL', 'API_KEY_SECRET', 'OLD_TOKEN', 'CACHE', 'MY_CONN']);
    for (const s of ['s3cret-pass', '0123456789abcdef0123456789abcdef', 'tok-1234567890', 'pw123456']) assert.ok(secrets.includes(s), s);
  });

  test('scrubSecrets masks known values anywhere, and URL credentials', () => {
    const { secrets } = redactEnvFile(text);
    const log = 'connecting with s3cret-pass; key=0123456789abcdef0123456789abcdef; to http://u:p@h/x';
    assert.equal(scrubSecrets(log, secrets), 'connecting with [REDACTED]; key=[REDACTED]; to http://[REDACTED]@h/x');
  });
});

describe('tailLines', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-tail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the last lines of a large file from its end', async () => {
    const file = path.join(dir, 'big.log');
    writeFileSync(file, Array.from({ length: 100_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`).join('\n') + '\n');
    const tail = await tailLines(file, 1000);
    assert.equal(tail.length, 1000);
    assert.equal(tail[0], `line 99000 ${'x'.repeat(99000 % 50)}`);
    assert.equal(tail.at(-1), `line 99999 ${'x'.repeat(99999 % 50)}`);
  });

  test('short files, no trailing newline, empty files; a missing file throws ENOENT', async () => {
    writeFileSync(path.join(dir, 'short.log'), 'a\nb\nc');
    assert.deepEqual(await tailLines(path.join(dir, 'short.log'), 2), ['b', 'c']);
    assert.deepEqual(await tailLines(path.join(dir, 'short.log'), 10), ['a', 'b', 'c']);
    writeFileSync(path.join(dir, 'empty.log'), '');
    assert.deepEqual(await tailLines(path.join(dir, 'empty.log'), 10), []);
    await assert.rejects(tailLines(path.join(dir, 'none.log'), 10), { code: 'ENOENT' });
  });
});

describe('day2 support-bundle', () => {
  let e2e: E2E;
  let secrets: string[];
  const NAME = 'bundle';
  const PRINTED_PASSWORD_LINE = `FATAL: password authentication failed for user "x" (retrying with password 'hunter2-not-in-env')`;

  before(async () => {
    e2e = await startE2E(NAME);
    // A password in the URL (the test cluster trusts, so it is never checked) that must
    // not reach the bundle, and a log line that echoes the API key secret by mistake.
    const password = randomBytes(12).toString('hex');
    recordTestSecrets(password);
    const envText = readFileSync(e2e.deployment.envFile, 'utf8').replace('postgres@', `postgres:${password}@`);
    writeFileSync(e2e.deployment.envFile, envText);
    const env = parseEnvFile(envText);
    secrets = [password, env.get('API_KEY_SECRET')!, env.get('VAULT_SIGNING_KEY')!, env.get('DATABASE_URL')!];
    await e2e.startService(7);
    appendFileSync(path.join(e2e.dir, 'run', 'api.log'), `debug: hmac key is ${env.get('API_KEY_SECRET')}\n`);
    // A secret the env file never held, which only its shape gives away.
    appendFileSync(path.join(e2e.dir, 'run', 'api.log'), `${PRINTED_PASSWORD_LINE}\n`);
    await e2e.startWorker();
  });
  after(async () => e2e?.teardown());

  function unpack(file: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-bundle-out-'));
    tar.extract({ file, cwd: dir, sync: true });
    const [root] = readdirSync(dir);
    return path.join(dir, root!);
  }

  test('holds every section, secrets redacted, schema without data, and a manifest of its files', async () => {
    const r = await e2e.cli('--json', 'support-bundle');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as SupportBundleResult;
    assert.match(result.file, /^support-bundle-bundle-\d{4}-\d{2}-\d{2}-\d{6}\.tar\.gz$/);
    assert.equal(path.dirname(result.path), path.join(e2e.dir, 'support-bundles'));
    assert.equal(statSync(result.path).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(result.path)).mode & 0o777, 0o700);
    assert.deepEqual(
      result.sections.map((s) => [s.name, s.ok]),
      [
        ['env file (secrets redacted)', true],
        ['service state', true],
        ['service logs', true],
        ['failed command output', true],
        ['database schema and row counts', true],
        ['preflight checks', true],
        ['health endpoints', true],
        ['system', true],
      ],
    );
    assert.equal(result.sha256, createHash('sha256').update(readFileSync(result.path)).digest('hex'));

    const root = unpack(result.path);
    const files = filesUnder(root)
      .map((f) => path.relative(root, f))
      .sort();
    assert.deepEqual(files, [
      'checks.json',
      'database/row-counts.json',
      'database/schema.sql',
      'env/.env',
      'env/VERSION',
      'health.json',
      'logs/api.log',
      'logs/worker.log',
      'manifest.json',
      'services/state.txt',
      'system.json',
    ]);
    for (const file of filesUnder(root)) {
      const text = readFileSync(file, 'utf8');
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret is in ${path.relative(root, file)}`);
    }

    const env = readFileSync(path.join(root, 'env/.env'), 'utf8');
    assert.match(env, /^DATABASE_URL=\[REDACTED\]$/m);
    assert.match(env, /^API_KEY_SECRET=\[REDACTED\]$/m);
    assert.match(env, /^VAULT_SIGNING_KEY=\[REDACTED\]$/m);
    assert.match(env, /^LEDGER_VERSION=1\.0\.0$/m);
    assert.match(env, /^# ledger service settings/m, 'comments are kept');

    const schema = readFileSync(path.join(root, 'database/schema.sql'), 'utf8');
    assert.match(schema, /CREATE TABLE public\.entries/);
    assert.doesNotMatch(schema, /^(COPY|INSERT INTO) /m, 'no data');
    const counts = JSON.parse(readFileSync(path.join(root, 'database/row-counts.json'), 'utf8')) as { tables: Record<string, number> };
    assert.equal(counts.tables['public.entries'], 7);

    const apiLog = readFileSync(path.join(root, 'logs/api.log'), 'utf8');
    assert.match(apiLog, /^debug: hmac key is \[REDACTED\]$/m, 'a secret echoed in a log is masked');
    assert.ok(apiLog.trimEnd().split('\n').length <= 1000);
    assert.match(readFileSync(path.join(root, 'services/state.txt'), 'utf8'), /"api":\{"running":true/);

    const health = JSON.parse(readFileSync(path.join(root, 'health.json'), 'utf8')) as Record<string, { status: number; body: string }>;
    assert.equal(health.ready!.status, 200);
    assert.match(health.version!.body, /"version":"1\.0\.0"/);
    const checks = JSON.parse(readFileSync(path.join(root, 'checks.json'), 'utf8')) as Array<{ name: string; ok: boolean; detail: string }>;
    assert.match(checks.find((c) => c.name === 'migrations not pending')!.detail, /none pending/);

    const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as {
      deployment: string;
      files: Array<{ path: string; bytes: number; sha256: string }>;
      omitted: Array<{ what: string; why: string }>;
    };
    assert.equal(manifest.deployment, NAME);
    assert.deepEqual(
      manifest.files.map((f) => f.path).sort(),
      files.filter((f) => f !== 'manifest.json'),
    );
    for (const f of manifest.files) {
      assert.equal(
        createHash('sha256')
          .update(readFileSync(path.join(root, f.path)))
          .digest('hex'),
        f.sha256,
        f.path,
      );
    }
    assert.ok(manifest.omitted.some((o) => o.what === 'table contents'));
    assert.ok(manifest.omitted.some((o) => /API_KEY_SECRET/.test(o.what)));
    rmSync(path.dirname(root), { recursive: true, force: true });
  });

  test('its entries carry the time they were collected; a password the env file never held is masked by its shape', async () => {
    const r = await e2e.cli('--json', 'support-bundle');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as SupportBundleResult;
    // Every entry, folders included, has a real mtime (as `tar tvzf` shows it), not 1970.
    const entries: Array<{ path: string; mtime?: Date }> = [];
    await tar.list({ file: result.path, onReadEntry: (e) => void entries.push({ path: e.path, mtime: e.mtime }) });
    assert.ok(
      entries.some((e) => e.path.endsWith('/logs/')),
      'folders are entries too',
    );
    for (const e of entries) {
      const age = Date.now() - (e.mtime?.getTime() ?? 0);
      assert.ok(age >= -60_000 && age < 3_600_000, `${e.path}: mtime ${e.mtime?.toISOString()} is not from the last hour`);
    }

    const root = unpack(result.path);
    const apiLog = readFileSync(path.join(root, 'logs/api.log'), 'utf8');
    assert.ok(!apiLog.includes('hunter2-not-in-env'), 'a password the env file does not hold is masked by its shape');
    assert.ok(apiLog.includes(PRINTED_PASSWORD_LINE.replace('hunter2-not-in-env', '[REDACTED]')), 'the words around it stay');
    rmSync(path.dirname(root), { recursive: true, force: true });
  });

  test('an unreachable database is reported in the bundle, which is still written', async () => {
    const envText = readFileSync(e2e.deployment.envFile, 'utf8');
    writeFileSync(e2e.deployment.envFile, envText.replace(/@127\.0\.0\.1:\d+\//, '@127.0.0.1:9/'));
    try {
      const r = await e2e.cli('support-bundle');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ {2}✗ database schema and row counts — cannot reach the database bundle@127\.0\.0\.1:9 \(ECONNREFUSED\)/m);
      assert.match(r.stdout, /^ {2}✓ health endpoints — live 200, ready 200, version 200$/m);
      assert.match(r.stdout, /^ {2}left out: table contents /m);
      assert.match(r.stdout, /^support bundle: .*support-bundle-bundle-.*\.tar\.gz \([\d.]+ (B|KiB|MiB), sha256 [0-9a-f]{12}…\)$/m);
    } finally {
      writeFileSync(e2e.deployment.envFile, envText);
    }
  });

  test('the worker killed after the bundle is written: the retry reports that bundle, none is made twice', async () => {
    await e2e.worker!.stop();
    const bundles = () => readdirSync(path.join(e2e.dir, 'support-bundles'));
    const before = bundles().length;
    const paused = await e2e.startWorker({ DAY2_TEST_PAUSE: 'createSupportBundle@end' });
    const cli = e2e.cli('--json', 'support-bundle'); // runs on while the worker is killed
    for (let i = 0; i < 600 && !readFileSync(paused.logFile, 'utf8').includes('"msg":"test pause"'); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(readFileSync(paused.logFile, 'utf8'), /"msg":"test pause"/);
    await paused.kill();
    await e2e.startWorker();
    const done = await cli;
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);
    const result = JSON.parse(done.stdout) as SupportBundleResult;
    assert.equal(result.reused, true);
    assert.equal(bundles().length, before + 1, 'one bundle, and no partial file or folder left');
    assert.ok(bundles().includes(result.file));
  });

  test('the activity: a retry reuses its bundle, a crashed attempt is cleaned up, another run never overwrites', async () => {
    const acts = supportBundleActivities(activityDeps({ config: e2e.config, logger: createLogger('test', 'warn') }));
    const at = new Date('2026-12-01T10:00:00Z');
    const input: SupportBundleInput = {
      deployment: NAME,
      fileName: supportBundleFileName(NAME, at),
      workflowId: 'day2-x',
      runId: 'run-1',
      createdAt: at.toISOString(),
    };
    const dir = supportBundleDir(e2e.config.deployments[NAME]!);
    mkdirSync(path.join(dir, `.${input.fileName}.run-1.partial`, 'junk'), { recursive: true });
    const first = await acts.createSupportBundle(input);
    assert.equal(first.reused, false);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.partial')), 'the crashed attempt is gone');
    // As if the worker died after publishing, before removing its staging files.
    mkdirSync(path.join(dir, `.${input.fileName}.run-1.partial`, 'junk'), { recursive: true });
    writeFileSync(path.join(dir, `.${input.fileName}.run-1.partial.tar.gz`), 'half');
    const again = await acts.createSupportBundle(input);
    assert.deepEqual({ ...again, reused: false }, first);
    assert.equal(again.reused, true);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.partial')), 'the retry removes what the first attempt left');
    await assert.rejects(acts.createSupportBundle({ ...input, runId: 'run-2' }), {
      name: 'BadInput',
      message: /already exists and was not made by this run/,
    });
    await assert.rejects(acts.createSupportBundle({ ...input, fileName: '../x.tar.gz' }), { name: 'BadInput' });
    assert.equal(createHash('sha256').update(readFileSync(first.path)).digest('hex'), first.sha256, 'left as it was');
  });

  test('an unknown deployment is bad input (exit 2)', async () => {
    const r = await e2e.cli('support-bundle', '--deployment', 'nope');
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /unknown deployment 'nope' — known deployments: bundle/);
  });
});
