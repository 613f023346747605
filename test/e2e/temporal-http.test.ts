// The CLI's HTTP API path (temporal.httpAddress, src/client/temporal-http.ts) against the
// SDK's gRPC path on the same real server, payload codec on: a workflow started over HTTP
// is the same as one the SDK starts (input, memo, search attributes, summary, all through
// the codec); `day2 list` prints the same document either way; a busy deployment and an
// unreachable HTTP API get the same refusals as on gRPC.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import YAML from 'yaml';
import { ENCRYPTED_ENCODING } from '../../src/codec/aes-gcm-codec';
import { dataConverterOf, payloadCodecsOf } from '../../src/codec/data-converter';
import { loadConfig } from '../../src/config';
import { TemporalHttpApi } from '../../src/client/temporal-http';
import { runCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';
import { recordTestCodecKeyring } from '../harness/secret-scan';

let e2e: E2E;
/** The same deployment, without temporal.httpAddress: the SDK's gRPC path. */
let grpcConfig: string;
let client: Client;
/** A backup the first test made. */
let backupFile: string;

const waitDone = (workflowId: string, runId: string) => client.workflow.getHandle(workflowId, runId).result();

before(async () => {
  e2e = await startE2E('th');
  assert.ok(e2e.temporal.httpAddress, 'the test server has an HTTP API');
  const key = randomBytes(32).toString('base64');
  const keyring = JSON.stringify({ current: 'k1', keys: { k1: key } });
  recordTestCodecKeyring(keyring);
  writeFileSync(path.join(e2e.dir, 'codec-keys.json'), keyring, { mode: 0o600 });
  const config = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
  config.temporal.codec = { keyFile: 'codec-keys.json' };
  writeFileSync(e2e.deployment.configFile, YAML.stringify(config));
  delete config.temporal.httpAddress;
  grpcConfig = path.join(e2e.dir, 'day2-grpc.yaml');
  writeFileSync(grpcConfig, YAML.stringify(config));
  client = new Client({ connection: e2e.temporal.connection, dataConverter: dataConverterOf(loadConfig(grpcConfig)) });
  await e2e.startService(5);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

async function detachedBackup(configFile: string): Promise<{ workflowId: string; runId: string }> {
  const r = await runCli(configFile, ['--json', 'backup', '--detach']);
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as { workflowId: string; runId: string };
}

describe('Temporal HTTP API path', () => {
  test('a backup started over HTTP is the same workflow as one started over gRPC, payloads encrypted alike', async () => {
    const viaHttp = await detachedBackup(e2e.deployment.configFile);
    const httpResult = await waitDone(viaHttp.workflowId, viaHttp.runId);
    const viaGrpc = await detachedBackup(grpcConfig);
    const grpcResult = await waitDone(viaGrpc.workflowId, viaGrpc.runId);
    assert.equal(viaHttp.workflowId, viaGrpc.workflowId, 'both hold the deployment under its one id');
    assert.deepEqual(Object.keys(httpResult as object).sort(), Object.keys(grpcResult as object).sort());
    backupFile = (grpcResult as { file: string }).file;

    const started = async (runId: string) => {
      const handle = client.workflow.getHandle(viaHttp.workflowId, runId);
      const [desc, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
      const event = history.events![0]!.workflowExecutionStartedEventAttributes!;
      const input = await client.options.loadedDataConverter.payloadCodecs[0]!.decode(event.input!.payloads!);
      return {
        type: desc.type,
        taskQueue: desc.taskQueue,
        memo: desc.memo,
        // day2's own; the worker adds Temporal's (BuildIds, TemporalChangeVersion) as it runs.
        searchAttributes: desc.typedSearchAttributes
          .getAll()
          .filter((a) => a.key.name.startsWith('Day2'))
          .map((a) => `${a.key.name}=${String(a.value)}`)
          .sort(),
        summary: await desc.staticSummary(),
        input: input.map((p) => JSON.parse(Buffer.from(p.data!).toString())),
        encodings: event.input!.payloads!.map((p) => Buffer.from(p.metadata!.encoding!).toString()),
      };
    };
    const [http, grpc] = await Promise.all([started(viaHttp.runId), started(viaGrpc.runId)]);
    assert.deepEqual(http, grpc);
    assert.deepEqual(http.encodings, [ENCRYPTED_ENCODING], 'the input reached the server encrypted');
    assert.equal(http.summary, 'day2 backup on th');

    // The result read from the close event over HTTP equals the SDK's.
    const api = new TemporalHttpApi(loadConfig(e2e.deployment.configFile), payloadCodecsOf(loadConfig(e2e.deployment.configFile)));
    try {
      assert.deepEqual(await api.result(viaHttp.workflowId, viaHttp.runId), httpResult);
    } finally {
      api.close();
    }
  });

  test('a busy deployment is refused over HTTP as over gRPC (exit 3, naming what holds it)', async () => {
    const restore = await e2e.cli('restore', backupFile, '--detach');
    assert.equal(restore.exitCode, 0, restore.stderr);
    try {
      for (const configFile of [e2e.deployment.configFile, grpcConfig]) {
        const r = await runCli(configFile, ['backup', '--detach']);
        assert.equal(r.exitCode, 3, r.stdout + r.stderr);
        assert.match(r.stderr, /deployment th is busy: restore /);
      }
    } finally {
      const cancel = await e2e.cli('cancel', e2e.workflowId);
      assert.equal(cancel.exitCode, 0, cancel.stderr);
    }
  });

  test('an HTTP address where nothing listens: exit 6, naming temporal.httpAddress, nothing started', async () => {
    const config = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
    config.temporal.httpAddress = `http://127.0.0.1:${await freePort()}`;
    const wrong = path.join(e2e.dir, 'day2-wrong-http.yaml');
    writeFileSync(wrong, YAML.stringify(config));
    const count = async () =>
      (JSON.parse((await runCli(grpcConfig, ['--json', 'list', '--deployment', 'th', '--limit', '100'])).stdout) as unknown[]).length;
    const before = await count();
    for (const args of [['list'], ['backup', '--detach']]) {
      const r = await runCli(wrong, args);
      assert.equal(r.exitCode, 6, r.stdout + r.stderr);
      assert.match(r.stderr, /cannot reach Temporal's HTTP API at http:\/\/127\.0\.0\.1:\d+: .*temporal\.httpAddress/);
    }
    assert.equal(await count(), before, 'nothing was started');
  });
  test('day2 list prints the same document over HTTP as over gRPC (completed and cancelled runs)', async () => {
    const [http, grpc] = await Promise.all([
      runCli(e2e.deployment.configFile, ['--json', 'list', '--deployment', 'th']),
      runCli(grpcConfig, ['--json', 'list', '--deployment', 'th']),
    ]);
    assert.equal(http.exitCode, 0, http.stderr);
    assert.equal(grpc.exitCode, 0, grpc.stderr);
    const rows = JSON.parse(http.stdout) as Array<{ status: string }>;
    assert.deepEqual(rows.map((r) => r.status).sort(), ['CANCELLED', 'COMPLETED', 'COMPLETED'], http.stdout);
    const comparable = (out: string) => (JSON.parse(out) as Array<Record<string, unknown>>).map(({ took: _took, ...row }) => row);
    assert.deepEqual(comparable(http.stdout), comparable(grpc.stdout));
    const table = await runCli(e2e.deployment.configFile, ['list', '--deployment', 'th', '--limit', '1']);
    assert.equal(table.exitCode, 0, table.stderr);
    assert.match(table.stdout, /^STARTED +STATUS +OPERATION[^\n]*\n\S+ +CANCELLED +restore +th +day2-th /);
  });
});
