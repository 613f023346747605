// Webhook notifications end to end: a real backup and a real drill report how they ended
// to a webhook receiver on loopback; a receiver that fails is retried with the same
// Idempotency-Key, one that stays down never fails the backup; the URL's token never
// reaches history.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config';
import type { OperationEvent } from '../../src/domain/types';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';
import { recordTestSecrets } from '../harness/secret-scan';

interface Received {
  idempotencyKey: string;
  contentType: string;
  event: OperationEvent;
}

let e2e: E2E;
let server: Server;
let port: number;
const received: Received[] = [];
/** Statuses to answer with, in order; 200 once they run out. */
let answers: number[] = [];
const token = randomBytes(16).toString('hex');
const NAME = 'notify';

before(async () => {
  recordTestSecrets(token);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({
        idempotencyKey: String(req.headers['idempotency-key']),
        contentType: String(req.headers['content-type']),
        event: JSON.parse(body),
      });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  e2e = await startE2E(NAME, { extra: { notify: { webhookUrlVar: 'NOTIFY_WEBHOOK_URL' } } });
  appendFileSync(e2e.deployment.envFile, `NOTIFY_WEBHOOK_URL=http://127.0.0.1:${port}/hook?token=${token}\n`);
  await e2e.startService(4);
  await e2e.startWorker();
});
after(async () => {
  await e2e?.teardown();
  server?.close();
});

async function backupRun(...args: string[]): Promise<{ exitCode: number; runId: string; out: string }> {
  const r = await e2e.cli('--json', 'backup', ...args);
  const runId = (await e2e.temporal.client.workflow.getHandle(e2e.workflowId).describe()).runId;
  return { exitCode: r.exitCode, runId, out: r.stdout + r.stderr };
}

describe('webhook notifications', () => {
  test('a backup tells the webhook it succeeded, once, keyed by its run; the token stays out of history', async () => {
    received.length = 0;
    const { exitCode, runId, out } = await backupRun();
    assert.equal(exitCode, 0, out);
    assert.equal(received.length, 1);
    const [{ event, idempotencyKey, contentType }] = received as [Received];
    assert.equal(contentType, 'application/json');
    assert.equal(idempotencyKey, `day2-notify/${runId}/succeeded`);
    assert.deepEqual(
      { ...event, at: '', detail: '' },
      { deployment: NAME, operation: 'backup', outcome: 'succeeded', workflowId: 'day2-notify', runId, detail: '', at: '' },
    );
    assert.match(event.detail, /^backed up to notify-\d{4}-\d{2}-\d{2}-\d{6}\.dump \([\d.]+ (B|KiB|MiB), sha256 [0-9a-f]{12}\)$/);
    const history = JSON.stringify(await e2e.temporal.client.workflow.getHandle(e2e.workflowId, runId).fetchHistory());
    assert.ok(!history.includes(token), 'the webhook token is not in history');
  });

  test('a receiver that answers 503 is retried with the same Idempotency-Key; one that stays down never fails the backup', async () => {
    received.length = 0;
    answers = [503, 503];
    const flaky = await backupRun();
    assert.equal(flaky.exitCode, 0, flaky.out);
    assert.equal(received.length, 3);
    assert.deepEqual(new Set(received.map((r) => r.idempotencyKey)), new Set([`day2-notify/${flaky.runId}/succeeded`]));

    received.length = 0;
    answers = [500, 500, 500, 500];
    const down = await backupRun();
    assert.equal(down.exitCode, 0, down.out);
    assert.equal(received.length, 4, 'every attempt was made');
  });

  test('a failed backup says why', async () => {
    received.length = 0;
    const envText = readFileSync(e2e.deployment.envFile, 'utf8');
    writeFileSync(e2e.deployment.envFile, envText.replace(/@127\.0\.0\.1:\d+\//, '@127.0.0.1:9/'));
    try {
      const { exitCode, out } = await backupRun();
      assert.equal(exitCode, 2, out);
    } finally {
      writeFileSync(e2e.deployment.envFile, envText);
    }
    assert.equal(received.length, 1);
    assert.equal(received[0]!.event.outcome, 'failed');
    assert.match(received[0]!.event.detail, /cannot reach the database notify@127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  });

  test('a DR drill reports too', async () => {
    received.length = 0;
    const r = await e2e.cli('drill');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.event.operation, 'drill');
    assert.equal(received[0]!.event.outcome, 'succeeded');
    assert.match(received[0]!.event.detail, /restores: all \d+ checks passed/);
  });

  test("the worker's Prometheus endpoint has each operation's last outcome (the runbooks' backup_success)", async () => {
    const metricsPort = await freePort();
    await e2e.worker!.stop();
    await e2e.startWorker({ DAY2_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    assert.equal((await backupRun()).exitCode, 0);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const sample = (name: string, labels: RegExp) => text.split('\n').find((l) => l.startsWith(name) && labels.test(l));
    assert.match(sample('day2_operation_success', /operation="backup"/) ?? text, /deployment="notify".* 1$/);
    assert.match(sample('day2_operations', /outcome="succeeded"/) ?? text, /operation="backup".* 1$/);
  });

  test("a support bundle redacts the webhook's variable (its URL holds a token)", async () => {
    const r = await e2e.cli('--json', 'support-bundle');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const { sections } = JSON.parse(r.stdout) as { sections: Array<{ name: string; detail: string }> };
    assert.match(sections[0]!.detail, /values redacted: .*NOTIFY_WEBHOOK_URL/);
    assert.ok(!r.stdout.includes(token));
  });

  test('day2.yaml takes one webhook source at most', () => {
    const raw = (notify: unknown) => ({
      deployments: {
        x: {
          runtime: { kind: 'commands', start: 'a', stop: 'b' },
          envFile: '.env',
          health: { ready: 'http://h/r' },
          backup: { dir: 'b' },
          notify,
        },
      },
    });
    assert.throws(
      () => parseConfig(raw({ webhookUrl: 'https://hooks.example/x', webhookUrlVar: 'URL' }), '/tmp'),
      /deployments\.x\.notify: set at most one of webhookUrl and webhookUrlVar/,
    );
    assert.throws(() => parseConfig(raw({ webhookUrl: 'not a url' }), '/tmp'), /deployments\.x\.notify\.webhookUrl: expected a URL/);
    assert.deepEqual(parseConfig(raw(undefined), '/tmp').deployments.x!.notify, { on: ['succeeded', 'failed', 'skipped'] });
  });
});
