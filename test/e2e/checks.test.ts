import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { runCheck, runChecks } from '../../src/checks';
import { checksActivities } from '../../src/activities/checks';
import { healthActivities } from '../../src/activities/runtime/health';
import { parseConfig } from '../../src/config';
import type { Check } from '../../src/domain/config-schema';
import { createLogger } from '../../src/logger';
import { freePort } from '../harness/free-port';
import { startPostgres, type PostgresCluster } from '../harness/postgres';
import { activityDeps } from '../../src/activities/shared/deps';

const logger = createLogger('test', 'silent');

const METRICS = `# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth 3
http_requests_total{method="GET",code="200"} 120
http_requests_total{method="GET",code="500"} 2
backup_last_success_seconds{deployment="ledger",note="a \\"quoted\\" value, {braces}"} 1.7e9
latency_seconds_bucket{le="+Inf"} +Inf
`;

const PLATFORM_KEY = 'platform-key-0d9f2c7a41';
const polls: Record<string, number> = {};

/** JSON and Prometheus endpoints; readiness answers 503 until `ready` is flipped. */
async function startService() {
  let ready = false;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.url === '/health') return send(200, JSON.stringify({ status: 'ok', build: { version: '1.3.0', features: ['a', 'b'] } }));
    if (req.url === '/ready') return ready ? send(200, '{"ready":true}') : send(503, '{"reason": "database unreachable"}');
    if (req.url === '/metrics') return send(200, METRICS, 'text/plain; version=0.0.4');
    // The runbooks' own verification: POST a scan with a bearer key, then poll the job.
    if (req.url?.startsWith('/v1/')) {
      if (req.headers.authorization !== `Bearer ${PLATFORM_KEY}`) return send(401, `{"error":"bad key ${req.headers.authorization}"}`);
      if (req.url === '/v1/admin/vault/scan' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const { scope } = JSON.parse(body) as { scope: string };
          polls[scope] = 0;
          send(202, JSON.stringify({ job: { id: scope, url: scope === 'elsewhere' ? 'http://example.invalid/x' : `/v1/jobs/${scope}` } }));
        });
        return;
      }
      const job = /^\/v1\/jobs\/(\w+)$/.exec(req.url)?.[1];
      if (job && req.method === 'GET') {
        polls[job] = (polls[job] ?? 0) + 1;
        const status = polls[job]! < 3 ? 'running' : job === 'broken' ? 'failed' : job === 'slow' ? 'running' : 'completed';
        return send(200, JSON.stringify({ status, problems: status === 'failed' ? 2 : 0 }));
      }
    }
    return send(404, 'no such page', 'text/plain');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${port}`,
    setReady: (value: boolean) => void (ready = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('checks', () => {
  let svc: Awaited<ReturnType<typeof startService>>;
  let pgc: PostgresCluster;
  let databaseUrl: string;
  let dir: string;

  before(async () => {
    svc = await startService();
    pgc = await startPostgres();
    databaseUrl = await pgc.createDatabase('checks');
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-checks-'));
  });
  after(async () => {
    await svc.close();
    await pgc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const http_ = (extra: Partial<Extract<Check, { kind: 'http' }>> = {}): Check => ({
    kind: 'http',
    name: 'health',
    url: `${svc.base}/health`,
    expectStatus: 200,
    ...extra,
  });
  const metric = (m: string, op: '<' | '<=' | '>' | '>=' | '==', value: number): Check => ({
    kind: 'metric',
    name: m,
    url: `${svc.base}/metrics`,
    metric: m,
    op,
    value,
  });

  it('http: status and dotted-path JSON equality', async () => {
    const ok = await runCheck(http_({ expectJson: { status: 'ok', 'build.version': '1.3.0', 'build.features': ['a', 'b'] } }));
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.detail, /build\.version = "1\.3\.0"/);

    const wrong = await runCheck(http_({ expectJson: { 'build.version': '1.4.0' } }));
    assert.deepEqual(wrong, { name: 'health', ok: false, detail: 'build.version: expected "1.4.0", got "1.3.0"' });

    const absent = await runCheck(http_({ expectJson: { 'build.commit': 'abc' } }));
    assert.equal(absent.detail, 'build.commit: expected "abc", got (absent)');

    const status = await runCheck(http_({ url: `${svc.base}/ready` }));
    assert.deepEqual(status, { name: 'health', ok: false, detail: 'expected 200, got 503 {"reason": "database unreachable"}' });
  });

  it('http: an unreachable service fails with a short reason', async () => {
    const port = await freePort();
    const result = await runCheck(http_({ url: `http://127.0.0.1:${port}/health` }));
    assert.deepEqual(result, { name: 'health', ok: false, detail: 'connection refused' });
  });

  it('http: POST with a bearer key from the env file and a JSON body, then poll the job it started', async () => {
    const envFile = path.join(dir, 'scan.env');
    writeFileSync(envFile, `PLATFORM_KEY=${PLATFORM_KEY}\n`);
    const scan = (scope: string, poll: Record<string, unknown> = {}): Check => ({
      kind: 'http',
      name: 'vault scan',
      url: `${svc.base}/v1/admin/vault/scan`,
      method: 'POST',
      headers: { Authorization: { fromEnv: 'PLATFORM_KEY', prefix: 'Bearer ' } },
      body: { scope },
      expectStatus: 202,
      poll: {
        urlField: 'job.url',
        until: { status: 'completed' },
        failWhen: { status: 'failed' },
        everySeconds: 0.05,
        timeoutSeconds: 2,
        ...poll,
      },
    });
    const done = await runCheck(scan('all'), { envFile });
    assert.equal(done.ok, true, done.detail);
    assert.match(done.detail, /^202, job done after [\d.]+ s \(3 polls\): 200, status = "completed"$/);
    const failed = await runCheck(scan('broken'), { envFile });
    assert.match(failed.detail, /^job failed after [\d.]+ s: 200, status = "failed"$/);
    const slow = await runCheck(scan('slow', { timeoutSeconds: 0.3 }), { envFile });
    assert.match(slow.detail, /^job not done after 0\.3 s \(\d+ polls\); last answer: status: expected "completed", got "running"$/);
    const elsewhere = await runCheck(scan('elsewhere'), { envFile });
    assert.match(elsewhere.detail, /^poll: job\.url points to another origin \(http:\/\/example\.invalid\): not polled/);
    // A wrong key: the answer echoes it, the detail does not.
    writeFileSync(envFile, `PLATFORM_KEY=${PLATFORM_KEY}-old\n`);
    const refused = await runCheck(scan('all'), { envFile });
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /^expected 202, got 401 .*\[REDACTED\]/);
    assert.ok(!refused.detail.includes(PLATFORM_KEY), refused.detail);
    writeFileSync(envFile, 'OTHER=1\n');
    assert.match((await runCheck(scan('all'), { envFile })).detail, /headers\.Authorization: PLATFORM_KEY is not set in /);
  });

  it('command: timeoutSeconds bounds how long it may run', async () => {
    const slow = await runCheck({ kind: 'command', name: 'slow', command: 'sleep 5', expectExitCode: 0, timeoutSeconds: 0.3 });
    assert.deepEqual(slow, { name: 'slow', ok: false, detail: 'timed out after 0.3 s (timeoutSeconds)' });
  });

  it('sql: first column of the first row, as text', async () => {
    const ctx = { databaseUrl };
    assert.deepEqual(await runCheck({ kind: 'sql', name: 'sum', query: 'select 1 + 1', expect: '2' }, ctx), {
      name: 'sum',
      ok: true,
      detail: '= "2"',
    });
    assert.equal((await runCheck({ kind: 'sql', name: 'b', query: 'select true', expect: 'true' }, ctx)).ok, true);
    assert.equal(
      (await runCheck({ kind: 'sql', name: 'n', query: 'select 12345678901234::bigint', expect: '12345678901234' }, ctx)).ok,
      true,
    );
    const wrong = await runCheck({ kind: 'sql', name: 'db', query: 'select current_database()', expect: 'ledger' }, ctx);
    assert.deepEqual(wrong, { name: 'db', ok: false, detail: 'expected "ledger", got "checks"' });
    const none = await runCheck({ kind: 'sql', name: 'empty', query: 'select 1 where false', expect: '1' }, ctx);
    assert.equal(none.detail, 'no rows (expected "1")');
    const bad = await runCheck({ kind: 'sql', name: 'bad', query: 'select * from no_such_table', expect: '1' }, ctx);
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /relation "no_such_table" does not exist/);
  });

  it('sql: connection failures never echo the database URL', async () => {
    const port = await freePort();
    const result = await runCheck(
      { kind: 'sql', name: 'db', query: 'select 1', expect: '1' },
      { databaseUrl: `postgres://app:TopSecretPw@127.0.0.1:${port}/ledger` },
    );
    assert.equal(result.ok, false);
    assert.ok(!result.detail.includes('TopSecretPw'), result.detail);
    assert.ok(!result.detail.includes('postgres://'), result.detail);
    const missing = await runCheck({ kind: 'sql', name: 'db', query: 'select 1', expect: '1' }, {});
    assert.equal(missing.detail, 'no database URL (DATABASE_URL is not set in the env file)');
  });

  it('command: exit code and last line of output, in the given cwd', async () => {
    writeFileSync(path.join(dir, 'marker'), '');
    assert.deepEqual(
      await runCheck(
        { kind: 'command', name: 'c', command: 'echo starting; test -f marker && echo all good', expectExitCode: 0 },
        { cwd: dir },
      ),
      {
        name: 'c',
        ok: true,
        detail: 'exit 0: all good',
      },
    );
    const failed = await runCheck(
      { kind: 'command', name: 'c', command: 'echo "2 migrations pending" >&2; exit 2', expectExitCode: 0 },
      { cwd: dir },
    );
    assert.deepEqual(failed, { name: 'c', ok: false, detail: 'exit 2 (expected 0): 2 migrations pending' });
    assert.equal((await runCheck({ kind: 'command', name: 'c', command: 'exit 3', expectExitCode: 3 })).ok, true);
  });

  it('metric: thresholds on exact names and labelled samples', async () => {
    assert.deepEqual(await runCheck(metric('queue_depth', '<', 10)), { name: 'queue_depth', ok: true, detail: 'queue_depth = 3' });
    assert.deepEqual(await runCheck(metric('queue_depth', '>', 5)), {
      name: 'queue_depth',
      ok: false,
      detail: 'queue_depth = 3, want > 5',
    });
    const errors = await runCheck(metric('http_requests_total{code="500"}', '<=', 5));
    assert.equal(errors.ok, true, errors.detail);
    assert.equal(errors.detail, 'http_requests_total{method="GET",code="500"} = 2');
    assert.equal((await runCheck(metric('backup_last_success_seconds{deployment="ledger"}', '>=', 1e9))).ok, true);
    assert.equal((await runCheck(metric('latency_seconds_bucket{le="+Inf"}', '>', 1e12))).ok, true);

    const ambiguous = await runCheck(metric('http_requests_total', '<', 1000));
    assert.equal(ambiguous.ok, false);
    assert.match(ambiguous.detail, /2 samples of http_requests_total match: add labels/);
    assert.deepEqual((await runCheck(metric('jobs_failed_total', '==', 0))).detail, 'metric jobs_failed_total not found');
  });

  it('runChecks runs every check in order; a check that throws becomes a failed result', async () => {
    const results = await runChecks([metric('queue_depth', '<', 10), metric('not a metric{', '<', 1), http_()]);
    assert.deepEqual(
      results.map((r) => [r.name, r.ok]),
      [
        ['queue_depth', true],
        ['not a metric{', false],
        ['health', true],
      ],
    );
    assert.match(results[1]!.detail, /not a metric name/);
  });

  it('runDeploymentChecks: verify set, built-in preflight and gate checks, database URL from the env file', async () => {
    writeFileSync(path.join(dir, '.env'), `DATABASE_URL=${databaseUrl}\n`);
    const config = parseConfig(
      {
        deployments: {
          ledger: {
            runtime: { kind: 'commands', start: 'true', stop: 'true' },
            envFile: '.env',
            health: { ready: `${svc.base}/ready` },
            backup: { dir: 'backups' },
            verify: [
              { kind: 'sql', name: 'db', query: 'select current_database()', expect: 'checks' },
              { kind: 'command', name: 'marker', command: 'test -f marker' },
            ],
            gates: { 'post-upgrade': { policy: 'auto', checks: [{ kind: 'http', name: 'health', url: `${svc.base}/health` }] } },
          },
        },
      },
      dir,
    );
    const { runDeploymentChecks } = checksActivities(activityDeps({ config, logger }));
    const verify = await runDeploymentChecks({ deployment: 'ledger', set: 'verify' });
    assert.deepEqual(
      verify.map((r) => r.ok),
      [true, true],
      JSON.stringify(verify),
    );
    // None configured: preflight is the built-in checks (APP_VERSION is not in this env file).
    const preflight = await runDeploymentChecks({ deployment: 'ledger', set: 'preflight' });
    assert.deepEqual(
      preflight.map((r) => [r.name, r.ok]),
      [
        ['env file has the required variables', false],
        ['database reachable', true],
        ['pg_dump can dump the server', true],
        ['backup directory can take a backup', true],
        ['kept copies of replaced data', true],
      ],
      JSON.stringify(preflight),
    );
    const gate = await runDeploymentChecks({ deployment: 'ledger', gate: 'post-upgrade' });
    assert.deepEqual(gate, [{ name: 'health', ok: true, detail: '200' }]);
    assert.deepEqual(await runDeploymentChecks({ deployment: 'ledger', gate: 'unconfigured' }), []);
  });

  describe('health', () => {
    const deps = () =>
      activityDeps({
        logger,
        config: parseConfig(
          {
            deployments: {
              ledger: {
                runtime: { kind: 'commands', start: 'true', stop: 'true' },
                envFile: '.env',
                health: { ready: `${svc.base}/ready`, version: `${svc.base}/health`, versionField: 'build.version', timeoutSeconds: 1 },
                backup: { dir: 'backups' },
              },
            },
          },
          dir,
        ),
      });

    it('waitForReady times out with the last answer in the message', async () => {
      svc.setReady(false);
      const started = Date.now();
      await assert.rejects(healthActivities(deps()).waitForReady({ deployment: 'ledger' }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'NotReady');
        assert.equal(err.nonRetryable, true);
        assert.equal(
          err.message,
          `ledger not ready after 1 s: 503 {"reason": "database unreachable"} (last answer of GET ${svc.base}/ready).`,
        );
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 700 && took < 2500, `took ${took} ms`);
    });

    it('waitForReady succeeds once the service flips ready', async () => {
      svc.setReady(false);
      const flip = setTimeout(() => svc.setReady(true), 600);
      try {
        const { readyAfterMs } = await healthActivities(deps()).waitForReady({ deployment: 'ledger', timeoutSeconds: 5 });
        assert.ok(readyAfterMs >= 550 && readyAfterMs < 2000, `ready after ${readyAfterMs} ms`);
      } finally {
        clearTimeout(flip);
      }
    });

    it('readServiceVersion reads the dotted version field', async () => {
      assert.equal(await healthActivities(deps()).readServiceVersion({ deployment: 'ledger' }), '1.3.0');
    });
  });
});
