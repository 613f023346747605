// day2 on a Temporal server configured as in production: the server's own processes with
// their state in PostgreSQL (src/temporal-postgres.ts), not the dev server's SQLite. A real
// backup of the sample ledger deployment survives a SIGKILL of that server while the
// worker is inside the backup's dump activity, and the server's whole stop and start on
// the same directory (schema setup skipped, the finished workflow still there). And the
// one-shot jobs of docker-compose.temporal.yml, run natively with the same tools (no
// Docker engine here), do what they say, twice over.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { execa } from 'execa';
import pg from 'pg';
import YAML from 'yaml';
import { ensureTemporalCli } from '../../scripts/ensure-tools';
import { startScratchCluster } from '../../src/lib/scratch-cluster';
import { ensureTemporalServer } from '../../src/temporal-server-binaries';
import type { TemporalPostgres } from '../../src/temporal-postgres';
import { removeTemporalPostgresData } from '../../src/temporal-postgres-cluster';
import { startE2E, type E2E } from '../harness/e2e';
import { startTemporalOnPostgres, useAsTestServer } from '../harness/temporal-postgres';

const NAME = 'pgtemporal';
let dir: string;
let server: TemporalPostgres;
let e2e: E2E;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'day2-temporal-pg-test-'));
  const started = Date.now();
  server = await startTemporalOnPostgres({ dir });
  const t = server.timings;
  console.log(
    `temporal on postgres: ${seconds(Date.now() - started)} (binaries ${seconds(t.binariesMs)}, initdb+start ${seconds(t.postgresMs)}, ` +
      `schema ${seconds(t.schemaMs)}, server ready ${seconds(t.serverMs)}, namespace+search attributes ${seconds(t.namespaceMs)})`,
  );
  // startE2E's startTemporal connects to the server named here instead of starting one.
  useAsTestServer(server);
  e2e = await startE2E(NAME);
  await e2e.startService(200);
});

after(async () => {
  await e2e?.teardown();
  await server?.stop();
  if (dir && !process.env.DAY2_KEEP_TEST_DIRS) removeTemporalPostgresData(dir);
});

async function waitForLog(file: () => string | undefined, needle: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = file();
    if (f && existsSync(f) && readFileSync(f, 'utf8').includes(needle)) return;
    if (Date.now() > deadline) throw new Error(`'${needle}' never appeared in ${f}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** result(), retried while the server is coming back (the connection reconnects by itself). */
async function resultAcrossRestart(handle: WorkflowHandle): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await handle.result();
    } catch (err) {
      if (!/UNAVAILABLE|ECONNREFUSED|Connection dropped|No connection established/i.test(String(err)) || attempt > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function temporalDb<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
  const client = new pg.Client({ host: server.postgres.host, port: server.postgres.port, user: 'postgres', database: 'temporal' });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('Temporal with PostgreSQL persistence', () => {
  test('a backup finishes across a SIGKILL and restart of the Temporal server mid-activity', async () => {
    const control = path.join(e2e.dir, 'pause-control');
    writeFileSync(control, 'createBackup@start 600\n');
    const worker = await e2e.startWorker({ DAY2_TEST_PAUSE: `@${control}` });
    const started = await e2e.cli('--json', 'backup', '--detach');
    assert.equal(started.exitCode, 0, started.stdout + started.stderr);
    await waitForLog(() => worker.logFile, '"msg":"test pause"');

    const killedAt = Date.now();
    await server.killServer();
    await server.startServer();
    const restartMs = Date.now() - killedAt;
    console.log(`temporal on postgres: server killed and ready again in ${seconds(restartMs)}`);
    writeFileSync(control, ''); // the paused activity goes on, and reports to the restarted server

    const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
    const result = (await resultAcrossRestart(handle)) as { file: string };
    assert.match(result.file, new RegExp(`^${NAME}-\\d{4}-\\d{2}-\\d{2}-\\d{6}\\.dump$`));
    assert.ok(existsSync(path.join(e2e.deployment.backupDir, result.file)), 'the dump is in the backup directory');
    assert.deepEqual(
      readdirSync(e2e.deployment.backupDir).filter((f) => f.endsWith('.dump')),
      [result.file],
      'one dump: the activity was not redone beside it',
    );

    // The CLI lists it (a read-only workflow on the restarted server), verified.
    const listed = await e2e.cli('--json', 'backups');
    assert.equal(listed.exitCode, 0, listed.stdout + listed.stderr);
    assert.ok(listed.stdout.includes(result.file), listed.stdout);

    // The workflow lives in PostgreSQL, and SQL visibility filters on day2's attributes.
    const rows = await temporalDb<{ workflow_id: string }>('SELECT workflow_id FROM current_executions WHERE workflow_id = $1', [
      e2e.workflowId,
    ]);
    assert.equal(rows.length, 1, 'current_executions holds the backup workflow');
    const ids: string[] = [];
    for await (const w of e2e.temporal.client.workflow.list({ query: `Day2Deployment = '${NAME}' AND Day2Operation = 'backup'` }))
      ids.push(w.workflowId);
    assert.ok(ids.includes(e2e.workflowId), `listed by search attribute: ${ids.join(', ')}`);
  });

  test('a full stop and start on the same directory skips the schema setup and keeps the history', async () => {
    await e2e.worker?.stop();
    await server.stop();
    const started = Date.now();
    server = await startTemporalOnPostgres({ dir });
    console.log(
      `temporal on postgres: second start on the same directory ${seconds(Date.now() - started)} (schema check ${seconds(server.timings.schemaMs)})`,
    );
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const description = await client.workflow.getHandle(e2e.workflowId).describe();
      assert.equal(description.status.name, 'COMPLETED');
    } finally {
      await connection.close();
    }
    // And a new operation runs on it.
    await e2e.startWorker();
    const file = await e2e.backup();
    assert.ok(existsSync(path.join(e2e.deployment.backupDir, file)));
  });

  test("docker-compose.temporal.yml's schema and admin jobs, run natively with the same tools, work and are idempotent", async () => {
    const compose = YAML.parse(readFileSync(new URL('../../docker-compose.temporal.yml', import.meta.url), 'utf8'));
    const job = (name: string) => String(compose.services[name].command[0]).replaceAll('$$', '$');
    const { sqlTool, moduleDir } = await ensureTemporalServer();
    const cluster = await startScratchCluster(path.join(mkdtempSync(path.join(os.tmpdir(), 'day2-compose-schema-')), 'pg'));
    try {
      const admin = new pg.Client({ connectionString: cluster.adminUrl });
      await admin.connect();
      await admin.query('CREATE ROLE temporal LOGIN CREATEDB');
      await admin.end();
      const schemaJob = job('temporal-schema')
        .replaceAll('temporal-sql-tool', sqlTool)
        .replace('/etc/temporal/schema', path.join(moduleDir, 'schema'));
      const env = {
        SQL_PLUGIN: 'postgres12',
        SQL_HOST: '127.0.0.1',
        SQL_PORT: String(cluster.port),
        SQL_USER: 'temporal',
        SQL_PASSWORD: 'unused-with-trust-auth',
      };
      for (const run of ['first', 'second']) {
        const r = await execa('sh', ['-c', schemaJob], { env, reject: false, all: true });
        assert.equal(r.exitCode, 0, `${run} run: ${r.all}`);
      }
      const newest = (db: string) =>
        readdirSync(path.join(moduleDir, 'schema/postgresql/v12', db, 'versioned'))
          .map((v) => v.slice(1))
          .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
          .at(-1);
      for (const [db, dir] of [
        ['temporal', 'temporal'],
        ['temporal_visibility', 'visibility'],
      ] as const) {
        const c = new pg.Client({ connectionString: cluster.adminUrl.replace(/\/postgres$/, `/${db}`) });
        await c.connect();
        const { rows } = await c.query<{ curr_version: string }>('SELECT curr_version FROM schema_version');
        await c.end();
        assert.deepEqual(
          rows.map((r) => r.curr_version),
          [newest(dir)],
          `${db} is at the module's newest schema version`,
        );
      }
    } finally {
      await cluster.remove();
    }
    // The admin job against the PostgreSQL-backed server, on a namespace of its own (the
    // create branch), twice: the second finds the namespace and the attributes there.
    const cli = await ensureTemporalCli();
    const adminJob = job('temporal-admin-tools')
      .replaceAll('temporal:7233', server.address)
      .replaceAll('--namespace default', '--namespace compose-check');
    for (const run of ['first', 'second']) {
      const r = await execa('sh', ['-c', adminJob], {
        env: { PATH: `${path.dirname(cli)}:${process.env.PATH}` },
        reject: false,
        all: true,
      });
      assert.equal(r.exitCode, 0, `${run} run: ${r.all}`);
    }
    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'compose-check' });
      for (const name of ['Day2Deployment', 'Day2Operation', 'Day2TargetVersion', 'Day2Gate'])
        assert.ok(name in (customAttributes ?? {}), `${name} registered`);
    } finally {
      await connection.close();
    }
  });
});
