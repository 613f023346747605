// The payload codec end to end: with temporal.codec set, a backup's history on the server
// holds only ciphertext, the CLI still reads progress and results, `day2 codec-server`
// decrypts for the Web UI, and rotating the codec key keeps older histories readable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import YAML from 'yaml';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/aes-gcm-codec';
import { dataConverterOf } from '../../src/codec/data-converter';
import { loadConfig } from '../../src/config';
import { cliArgv } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';
import { recordTestCodecKeyring } from '../harness/secret-scan';
import { startTemporal } from '../harness/temporal';
import { PATCH_IDS } from '../../src/domain/patches';

let e2e: E2E;
let keyFile: string;
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

function writeKeyring(current: string, keys: Record<string, string>): void {
  const json = JSON.stringify({ current, keys });
  recordTestCodecKeyring(json);
  writeFileSync(keyFile, json, { mode: 0o600 });
}

interface RawPayload {
  metadata?: Record<string, Uint8Array | null> | null;
  data?: Uint8Array | null;
}

const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

/** Every payload in a history, with where it sits (search attributes are never encoded:
 * the server indexes them). */
function payloadsOf(value: unknown, at = ''): Array<{ at: string; payload: RawPayload }> {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return [];
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'encoding' in (record.metadata as object))
    return [{ at, payload: record as RawPayload }];
  return Object.entries(record).flatMap(([k, v]) => payloadsOf(v, at ? `${at}.${k}` : k));
}

/** The payloads day2's data converter writes: all but those the SDK writes in the clear by
 * design — search attributes, and a patch marker's id (`patched(PATCHES.…)`), which
 * is checked to be only one of those constants. */
function convertedPayloads(events: unknown): Array<{ at: string; payload: RawPayload }> {
  return payloadsOf(events).filter(({ at, payload }) => {
    if (at.includes('searchAttributes')) return false;
    if (!at.endsWith('markerRecordedEventAttributes.details.patch-data.payloads.0')) return true;
    // The SDK writes the patch id and a "deprecated" flag: the one string must be our id.
    const strings = Object.values(JSON.parse(text(payload.data)) as Record<string, unknown>).filter((v) => typeof v !== 'boolean');
    assert.equal(strings.length, 1, `${at} holds more than the patch id: ${text(payload.data)}`);
    assert.ok(PATCH_IDS.includes(String(strings[0])), `${at} is not one of day2's patch ids: ${text(payload.data)}`);
    return false;
  });
}

async function backup(): Promise<{ file: string; runId: string }> {
  const r = await e2e.cli('--json', 'backup');
  assert.equal(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { result: { file: string }; runId: string };
  return { file: out.result.file, runId: out.runId };
}

before(async () => {
  e2e = await startE2E('cx');
  keyFile = path.join(e2e.dir, 'codec-keys.json');
  writeKeyring('k1', { k1 });
  const config = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
  config.temporal.codec = { keyFile: 'codec-keys.json' };
  writeFileSync(e2e.deployment.configFile, YAML.stringify(config));
  await e2e.startService(5);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('payload codec on', () => {
  let first: { file: string; runId: string };

  test('the CLI runs a backup and reads its result; the server holds only ciphertext', async () => {
    first = await backup();
    assert.match(first.file, /^cx-.*\.dump$/);

    const history = await e2e.temporal.client.workflow.getHandle(e2e.workflowId, first.runId).fetchHistory();
    const encoded = convertedPayloads(history.events);
    assert.ok(encoded.length >= 5, `payloads found: ${encoded.length}`);
    assert.ok(
      encoded.some((p) => p.at.includes('userMetadata')),
      'the step summaries the Web UI shows are encrypted too',
    );
    for (const { at, payload } of encoded) {
      assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING, `${at} is not encrypted`);
      assert.equal(text(payload.metadata?.[KEY_ID_METADATA]), 'k1');
      assert.ok(!text(payload.data).includes(first.file), `${at} shows the file name in the clear`);
    }
    const status = await e2e.cli('status', e2e.workflowId);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(status.stdout, new RegExp(first.file.replace(/\./g, '\\.')));
  });

  test('day2 codec-server decrypts the history for the Web UI', async () => {
    const history = await e2e.temporal.client.workflow.getHandle(e2e.workflowId, first.runId).fetchHistory();
    const completed = history.events!.find((e) => e.workflowExecutionCompletedEventAttributes)!;
    const result = completed.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
    const port = await freePort();
    const [node, ...argv] = cliArgv(e2e.deployment.configFile, ['codec-server', '--port', String(port)]);
    const server: ResultPromise = execa(node, argv, { reject: false, buffer: false, stdout: 'pipe' });
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('codec server at') && resolve());
        void server.then((r) => reject(new Error(`codec-server exited: ${r.exitCode}`)));
      });
      const body = {
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(result.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
            data: Buffer.from(result.data!).toString('base64'),
          },
        ],
      };
      const res = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: 'http://127.0.0.1:8233' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
      const decoded = ((await res.json()) as { payloads: Array<{ data: string }> }).payloads[0]!;
      assert.equal(JSON.parse(Buffer.from(decoded.data, 'base64').toString()).file, first.file);
    } finally {
      server.kill('SIGTERM');
      await server;
    }
  });

  test('key rotation: new payloads use the new key, older histories stay readable while the old key is kept', async () => {
    writeKeyring('k2', { k1, k2 });
    await e2e.worker!.stop();
    await e2e.startWorker();
    const second = await backup();
    const history = await e2e.temporal.client.workflow.getHandle(e2e.workflowId, second.runId).fetchHistory();
    const ids = new Set(convertedPayloads(history.events).map((p) => text(p.payload.metadata?.[KEY_ID_METADATA])));
    assert.deepEqual([...ids], ['k2']);

    const temporal = await startTemporal();
    try {
      const config = loadConfig(e2e.deployment.configFile);
      const withBoth = new Client({
        connection: temporal.connection,
        namespace: temporal.namespace,
        dataConverter: dataConverterOf(config),
      });
      const old = (await withBoth.workflow.getHandle(e2e.workflowId, first.runId).result()) as { file: string };
      assert.equal(old.file, first.file);

      // Once k1 is dropped from the keyring, its histories cannot be read: a clear error.
      writeKeyring('k2', { k2 });
      const withoutOld = new Client({
        connection: temporal.connection,
        namespace: temporal.namespace,
        dataConverter: dataConverterOf(loadConfig(e2e.deployment.configFile)),
      });
      await assert.rejects(
        withoutOld.workflow.getHandle(e2e.workflowId, first.runId).result(),
        /codec key 'k1', which this keyring does not hold/,
      );
    } finally {
      writeKeyring('k2', { k1, k2 });
      await temporal.stop();
    }
  });
});
