// The test fixtures themselves: Temporal answers with day2's search attributes, PostgreSQL
// takes queries, and a private Temporal server can be restarted without losing workflows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { ensureTemporalCli } from '../../scripts/ensure-tools';
import { isServerRunning, registerSearchAttributes, startDevServer } from '../../src/dev-server';
import { DAY2_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { freePort } from '../harness/free-port';
import { startPostgres, type PostgresCluster } from '../harness/postgres';
import { startTemporal, type TestTemporal } from '../harness/temporal';

let temporal: TestTemporal;
let postgres: PostgresCluster;

before(async () => {
  [temporal, postgres] = await Promise.all([startTemporal(), startPostgres()]);
});
after(async () => {
  await Promise.all([temporal?.stop(), postgres?.stop()]);
});

test('startTemporal connects to a server', async () => {
  const info = await temporal.connection.workflowService.getSystemInfo({});
  assert.ok(info.serverVersion, 'server reports a version');
  const ns = await temporal.connection.workflowService.describeNamespace({ namespace: temporal.namespace });
  assert.equal(ns.namespaceInfo?.name, temporal.namespace);
});

test('day2 search attributes are registered as Keyword', async () => {
  const { customAttributes } = await temporal.connection.operatorService.listSearchAttributes({
    namespace: temporal.namespace,
  });
  assertDay2Attributes(customAttributes);
});

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
function assertDay2Attributes(customAttributes: Record<string, number> | null | undefined): void {
  for (const key of DAY2_SEARCH_ATTRIBUTES) {
    assert.equal(customAttributes?.[key.name], KEYWORD, `${key.name} registered as Keyword`);
  }
}

test('startPostgres gives a reachable database', async () => {
  const client = new pg.Client({ connectionString: await postgres.createDatabase('day2_harness') });
  await client.connect();
  try {
    const { rows } = await client.query('select 1 as one');
    assert.equal(rows[0].one, 1);
  } finally {
    await client.end();
  }
});

test('a private Temporal server restarts on the same port and SQLite file with its workflows', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-temporal-'));
  const dbFilename = path.join(dir, 'temporal.db');
  let server = await startTemporal({ dbFilename });
  try {
    // No worker: the workflow just waits on its task queue, which is all we need to see.
    const handle = await server.client.workflow.start('notRegistered', {
      taskQueue: 'harness-restart',
      workflowId: 'harness-restart',
    });
    const port = server.port;
    await server.stop();
    server = await startTemporal({ dbFilename, port });
    assert.equal(server.port, port);
    const described = await server.client.workflow.getHandle(handle.workflowId).describe();
    assert.equal(described.status.name, 'RUNNING');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startDevServer (day2 dev) starts with the search attributes, re-registers idempotently and stops', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-dev-'));
  const cliPath = await ensureTemporalCli();
  const server = await startDevServer({
    cliPath,
    dbFile: path.join(dir, 'nested', 'dev.db'), // the directory is created
    port: await freePort(),
    uiPort: await freePort(),
  });
  try {
    assert.equal(await isServerRunning(server.address), true);
    await registerSearchAttributes(cliPath, server.address, 'default'); // already there: no error
    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      assertDay2Attributes(customAttributes);
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(await isServerRunning(server.address), false);
});
