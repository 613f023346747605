// Readiness that really checks (issue 17, defect 4): a service that answers 200 with an
// HTML page for any path must not pass a readiness condition that asks for JSON, and the
// timeout names the URL, the last answer and what the operation left. Probe headers come
// from env-file variables and never show in an error. A real HTTP server, no mocks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { healthActivities } from '../../src/activities/runtime/health';
import { healthSection } from '../../src/activities/bundle/sections';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { freePort } from '../harness/free-port';
import { recordTestSecrets } from '../harness/secret-scan';
import { activityDeps } from '../../src/activities/shared/deps';

const logger = createLogger('test', 'silent');
const HTML = '<!doctype html><html><head><title>Ledger</title></head><body><div id="app"></div></body></html>';

/** A single-page app's server: 200 text/html for every path, but for /api/ready (JSON,
 * `status: ok` once `ready` is set) and /api/version (only with the right token). */
async function startSpa(token: string) {
  const seen: Array<{ url: string; token?: string }> = [];
  let ready = true;
  const server = http.createServer((req, res) => {
    const sent = req.headers['x-health-token'];
    seen.push({ url: req.url ?? '', token: typeof sent === 'string' ? sent : undefined });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/api/ready') return json(200, { status: ready ? 'ok' : 'starting' });
    if (req.url === '/api/version') {
      if (req.headers.authorization !== `Bearer ${token}`) {
        // A careless service echoes what it was sent: day2 must scrub it.
        return json(401, { error: `bad token ${String(req.headers.authorization)}` });
      }
      return json(200, { build: { version: '2.4.1' } });
    }
    // An echo in the page, too: the token must not reach the error text this way either.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(HTML.replace('<div', `<!-- ${String(sent ?? '')} --><div`));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    setReady: (value: boolean) => void (ready = value),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('health endpoints that answer but do not match', () => {
  const token = randomBytes(18).toString('base64url');
  let spa: Awaited<ReturnType<typeof startSpa>>;
  let dir: string;

  before(async () => {
    recordTestSecrets(token);
    spa = await startSpa(token);
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-health-'));
    writeFileSync(path.join(dir, '.env'), `HEALTH_TOKEN=${token}\nVERSION_TOKEN=${token}\n`, { mode: 0o600 });
  });
  after(async () => {
    await spa.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const activities = (health: Record<string, unknown>) =>
    healthActivities(
      activityDeps({
        logger,
        config: parseConfig(
          {
            deployments: {
              ledger: {
                runtime: { kind: 'commands', start: 'true', stop: 'true' },
                envFile: '.env',
                health: { timeoutSeconds: 1, ...health },
                backup: { dir: 'b' },
              },
            },
          },
          dir,
        ),
      }),
    );
  const readyJson = {
    expectContentType: 'application/json',
    expectJson: { status: 'ok' },
    headers: { 'X-Health-Token': { fromEnv: 'HEALTH_TOKEN' } },
  };

  it('a wrong ready URL answering 200 HTML fails, naming the URL, the last answer and what was left', async () => {
    const { waitForReady } = activities({ ready: `${spa.base}/health/ready`, readyCheck: readyJson });
    const leftState = 'The restored data is live; the previous data is kept as ledger_pre_restore_x.';
    await assert.rejects(waitForReady({ deployment: 'ledger', leftState }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'NotReady');
      assert.equal(err.nonRetryable, true);
      assert.ok(
        err.message.startsWith('ledger not ready after 1 s: 200 but an HTML page where application/json was expected: <!doctype html>'),
        err.message,
      );
      assert.ok(err.message.includes(`(last answer of GET ${spa.base}/health/ready).`), err.message);
      assert.ok(err.message.endsWith(leftState), err.message);
      assert.ok(!err.message.includes(token), `the token leaked: ${err.message}`);
      return true;
    });
    // The header did reach the server, with the env file's value.
    assert.ok(spa.seen.some((r) => r.url === '/health/ready' && r.token === token));
  });

  it('a JSON condition alone (no content type) says HTML where JSON was expected', async () => {
    const { waitForReady } = activities({ ready: `${spa.base}/`, readyCheck: { expectJson: { status: 'ok' } } });
    await assert.rejects(waitForReady({ deployment: 'ledger' }), (err: Error) => {
      assert.match(
        err.message,
        /^ledger not ready after 1 s: 200 but an HTML page where JSON was expected: <!doctype html>.* \(last answer of GET http:\/\/127\.0\.0\.1:\d+\/\)\.$/,
      );
      return true;
    });
  });

  it('the right endpoint passes; a field that does not match yet fails with the field', async () => {
    spa.seen.length = 0;
    const { waitForReady } = activities({ ready: `${spa.base}/api/ready`, readyCheck: readyJson });
    const { readyAfterMs } = await waitForReady({ deployment: 'ledger' });
    assert.ok(readyAfterMs < 1000, `ready after ${readyAfterMs} ms`);
    assert.deepEqual(spa.seen, [{ url: '/api/ready', token }]);

    spa.setReady(false);
    try {
      await assert.rejects(waitForReady({ deployment: 'ledger' }), (err: Error) => {
        assert.match(err.message, /^ledger not ready after 1 s: status: expected "ok", got "starting" \(last answer of GET /);
        return true;
      });
    } finally {
      spa.setReady(true);
    }
  });

  it('without readyCheck, health.ready is a URL as before: any 2xx passes', async () => {
    const { waitForReady } = activities({ ready: `${spa.base}/health/ready` });
    await waitForReady({ deployment: 'ledger' });
  });

  it('credentials in the URL are masked in the error', async () => {
    const { waitForReady } = activities({ ready: `http://127.0.0.1:${await freePort()}/ready?token=UrlPassw0rd` });
    await assert.rejects(waitForReady({ deployment: 'ledger' }), (err: Error) => {
      assert.match(err.message, /: connection refused \(last answer of GET http:\/\/127\.0\.0\.1:\d+\/ready\?token=\[REDACTED\]\)\.$/);
      assert.ok(!err.message.includes('UrlPassw0rd'), err.message);
      return true;
    });
  });

  it('a header variable missing from the env file is a config error naming the variable, not retried', async () => {
    const { waitForReady } = activities({
      ready: `${spa.base}/api/ready`,
      readyCheck: { headers: { 'X-Health-Token': { fromEnv: 'NO_SUCH_VAR' } } },
    });
    await assert.rejects(waitForReady({ deployment: 'ledger', leftState: 'Release 2.4.1 was started.' }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'ConfigError');
      assert.equal(err.nonRetryable, true);
      assert.equal(
        err.message,
        `ledger: health.readyCheck.headers.X-Health-Token: NO_SUCH_VAR is not set in ${path.join(dir, '.env')}. Release 2.4.1 was started.`,
      );
      return true;
    });
  });

  it('the version endpoint behind a token: read with the header, and a wrong token never shows', async () => {
    const versionCheck = {
      expectContentType: 'application/json',
      headers: { Authorization: { fromEnv: 'VERSION_TOKEN', prefix: 'Bearer ' } },
    };
    const right = activities({
      ready: `${spa.base}/api/ready`,
      version: `${spa.base}/api/version`,
      versionField: 'build.version',
      versionCheck,
    });
    assert.equal(await right.readServiceVersion({ deployment: 'ledger' }), '2.4.1');

    const wrongToken = `${token}-stale`;
    writeFileSync(path.join(dir, '.env'), `HEALTH_TOKEN=${token}\nVERSION_TOKEN=${wrongToken}\n`, { mode: 0o600 });
    try {
      await assert.rejects(right.readServiceVersion({ deployment: 'ledger' }), (err: Error) => {
        assert.match(
          err.message,
          /^version endpoint \(GET http:\/\/127\.0\.0\.1:\d+\/api\/version\): 401 \{"error":"bad token Bearer \[REDACTED\]"\}$/,
        );
        assert.ok(!err.message.includes(token), err.message);
        return true;
      });
    } finally {
      writeFileSync(path.join(dir, '.env'), `HEALTH_TOKEN=${token}\nVERSION_TOKEN=${token}\n`, { mode: 0o600 });
    }

    const html = activities({ ready: `${spa.base}/api/ready`, version: `${spa.base}/version`, versionCheck });
    await assert.rejects(
      html.readServiceVersion({ deployment: 'ledger' }),
      /version endpoint \(GET .*\/version\): 200 but an HTML page where application\/json was expected/,
    );
  });

  it('config: readyCheck and versionCheck are strict; versionCheck needs version', () => {
    assert.throws(
      () => activities({ ready: `${spa.base}/`, readyCheck: { expectJSON: {} } }),
      /health\.readyCheck\.expectJSON: unknown key — did you mean expectJson\?/,
    );
    assert.throws(() => activities({ ready: `${spa.base}/`, versionCheck: {} }), /health\.versionCheck: versionCheck needs version/);
    assert.throws(
      () => activities({ ready: `${spa.base}/`, readyCheck: { headers: { 'X-T': { fromEnv: 'not a name' } } } }),
      /health\.readyCheck\.headers\.X-T/,
    );
  });

  it("the support bundle's health section sends the probes' headers: an endpoint behind a token answers there too, the token scrubbed", async () => {
    const versionCheck = { headers: { Authorization: { fromEnv: 'VERSION_TOKEN', prefix: 'Bearer ' } } };
    const config = parseConfig(
      {
        deployments: {
          ledger: {
            runtime: { kind: 'commands', start: 'true', stop: 'true' },
            envFile: '.env',
            backup: { dir: 'b' },
            health: { ready: `${spa.base}/api/ready`, version: `${spa.base}/api/version`, versionField: 'build.version', versionCheck },
          },
        },
      },
      dir,
    );
    const section = await healthSection(config.deployments.ledger!, []);
    const answers = JSON.parse(section.files[0]!.text) as Record<string, { status: number; body: string }>;
    assert.equal(answers.version!.status, 200, 'the token reached the version endpoint');
    assert.match(answers.version!.body, /2\.4\.1/);
    assert.ok(!section.files[0]!.text.includes(token), 'the token is not in the bundle');
  });
});
