// day2 on a real service it did not write: Directus (examples/directus/), two of its
// released versions from npm, on the test PostgreSQL, driven by the `commands` runtime
// through examples/directus/ctl.sh with the day2.yaml `day2 init` wrote for it (plus the
// hand edits the README names, checked here too). Backup → change → restore gives every
// table back as it was at the backup; upgrade 11.2.2 → 11.3.5 runs Directus's own knex
// migrations; rollback brings 11.2.2 back with every table as it was before the upgrade.
// Content is made through Directus's real HTTP API.
//
// Installing a release is an npm install with native builds (isolated-vm, sqlite3): about
// a quarter of an hour each on a busy 2-core machine, once; they are cached in
// $DIRECTUS_CACHE_DIR (default ~/.cache/day2/examples/directus). Even cached, the file
// takes 49 s on a quiet machine but 160–215 s on a busy one (Directus starts four times,
// mostly CPU), so `npm test` skips it unless DAY2_TEST_DIRECTUS=1; `npm run test:directus` sets it and runs it alone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import YAML from 'yaml';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { withClient } from '../../src/activities/shared/pg-connection';
import { runCli, type CliResult } from '../harness/cli';
import { freePort } from '../harness/free-port';
import { startPostgres, type PostgresCluster } from '../harness/postgres';
import { harvestEnvSecrets, historyText, recordTestSecrets } from '../harness/secret-scan';
import { startTemporal, type TestTemporal } from '../harness/temporal';
import { spawnWorker, type WorkerProcess } from '../harness/worker-process';

const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'directus');
const OLD = '11.2.2';
const NEW = '11.3.5';
/** What 11.3.5 adds to 11.2.2's migrations (@directus/api 23.1.3 → 23.3.2). */
const NEW_MIGRATIONS = ['20240924A', '20240924B'];
const CACHE =
  process.env.DIRECTUS_CACHE_DIR ??
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'day2', 'examples', 'directus');
const skip =
  process.env.DAY2_TEST_DIRECTUS === '1'
    ? false
    : `1 to 4 minutes (and the first time a quarter of an hour per Directus release installed into ${CACHE}): \`npm run test:directus\` runs it`;
const INIT_FLAGS = [
  '--name',
  'directus',
  '--start',
  './ctl.sh start',
  '--stop',
  './ctl.sh stop',
  '--migrate',
  './ctl.sh migrate {version}',
  '--health',
  'http://127.0.0.1:8055/server/health',
  '--no-check',
];

/** What `day2 init` cannot know, written by hand after it (examples/directus/README.md):
 * [what init wrote, what the committed file holds instead]. Each must apply exactly once. */
const HAND_EDITS: Array<[string, string]> = [
  [
    '# Every key, its type and default',
    '# Then edited by hand: pull and present, and health.version (examples/directus/README.md).\n# Every key, its type and default',
  ],
  [
    "      # pull: './fetch-release {version}'   # fetches release {version} before anything stops\n",
    '      pull: "./ctl.sh pull {version}"   # by hand: npm install of the release, before anything stops\n' +
      '      present: "./ctl.sh present {version}"   # by hand: installed already? (when npm cannot be reached)\n',
  ],
  [
    '      ready: http://127.0.0.1:8055/server/health\n',
    '      ready: http://127.0.0.1:8055/server/health\n' +
      '      version: http://127.0.0.1:8055/server/info   # by hand: Directus names its release to an admin only\n' +
      '      versionField: data.version\n' +
      '      versionCheck:\n' +
      '        headers: { Authorization: { fromEnv: ADMIN_TOKEN, prefix: "Bearer " } }\n',
  ],
];

let pg: PostgresCluster;
let temporal: TestTemporal;
let worker: WorkerProcess | undefined;
let dir = '';
let dbUrl = '';
let baseUrl = '';
let configFile = '';
let adminToken = '';
const secrets: string[] = [];
const cliOutput: string[] = [];
let taskQueue = '';
let beforeUpgrade: Record<string, string> | undefined;

async function cli(...args: string[]): Promise<CliResult> {
  const r = await runCli(configFile, args);
  cliOutput.push(r.stdout + r.stderr);
  return r;
}
// DIRECTUS_VERSION empty: ctl.sh reads the env file, as it does when a person runs it.
const ctl = (...args: string[]) =>
  execa('./ctl.sh', args, { cwd: dir, env: { DIRECTUS_VERSION: '' }, reject: false, all: true, timeout: 50 * 60_000 });
async function mustCtl(...args: string[]): Promise<void> {
  const r = await ctl(...args);
  assert.equal(r.exitCode, 0, `ctl.sh ${args.join(' ')}: ${r.all}`);
}

/** Directus's REST API as the admin, with the static token bootstrap gave it (no session
 * and no login activity: reading through it writes nothing, so checksums stay put). */
async function api<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route} → ${res.status} ${text.slice(0, 500)}`);
  return (text ? (JSON.parse(text) as { data: T }).data : undefined) as T;
}

async function waitHealthy(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await fetch(`${baseUrl}/server/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    assert.ok(Date.now() < deadline, `Directus not healthy after 120 s (last status ${status}); see ${dir}/run/directus.log`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const runningVersion = async () => (await api<{ version: string }>('GET', '/server/info')).version;
const titles = async () => (await api<Array<{ title: string }>>('GET', '/items/articles?sort=id&fields=title')).map((a) => a.title);
const everything = () => tableChecksums(dbUrl);
const migrations = () =>
  withClient(dbUrl, async (c) =>
    (await c.query<{ version: string }>('SELECT version FROM directus_migrations ORDER BY version')).rows.map((r) => r.version),
  );
const activityHasComment = () =>
  withClient(
    dbUrl,
    async (c) =>
      (
        await c.query(
          "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'directus_activity' AND column_name = 'comment'",
        )
      ).rowCount === 1,
  );
/** The detail of step `name` in a `--json` operation's progress. */
function stepDetail(stdout: string, name: string): string | undefined {
  const { progress } = JSON.parse(stdout) as { progress: { steps: Array<{ name: string; detail?: string }> } };
  return progress.steps.find((s) => s.name === name)?.detail;
}
const envVersion = () => /^DIRECTUS_VERSION=(.*)$/m.exec(readFileSync(path.join(dir, '.env'), 'utf8'))?.[1];

describe(`Directus ${OLD} → ${NEW}, installed from npm, operated by day2`, { skip, timeout: 60 * 60_000 }, () => {
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-directus-'));
    copyFileSync(path.join(EXAMPLE, 'ctl.sh'), path.join(dir, 'ctl.sh'));
    // The releases first: on a cold cache this is the long part, and it needs nothing else.
    await Promise.all([mustCtl('pull', OLD), mustCtl('pull', NEW)]);

    [pg, temporal] = await Promise.all([startPostgres(), startTemporal()]);
    dbUrl = await pg.createDatabase('directus_e2e');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const [key, secret, password] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex'), randomBytes(24).toString('hex')];
    adminToken = randomBytes(24).toString('hex');
    secrets.push(key, secret, password, adminToken);
    recordTestSecrets(...secrets);
    const env = readFileSync(path.join(EXAMPLE, '.env.example'), 'utf8')
      .replace(/^DIRECTUS_VERSION=.*$/m, `DIRECTUS_VERSION=${OLD}`)
      .replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=${dbUrl}`)
      .replace(/^PORT=.*$/m, `PORT=${port}`)
      .replace(/^PUBLIC_URL=.*$/m, `PUBLIC_URL=${baseUrl}`)
      .replace(/^KEY=.*$/m, `KEY=${key}`)
      .replace(/^SECRET=.*$/m, `SECRET=${secret}`)
      .replace(/^ADMIN_PASSWORD=.*$/m, `ADMIN_PASSWORD=${password}`)
      .replace(/^ADMIN_TOKEN=.*$/m, `ADMIN_TOKEN=${adminToken}`);
    writeFileSync(path.join(dir, '.env'), env, { mode: 0o600 });

    // The committed day2.yaml as it is, but for what only this run knows: its Temporal
    // server and task queue, and the port Directus listens on.
    const config = YAML.parse(readFileSync(path.join(EXAMPLE, 'day2.yaml'), 'utf8'));
    taskQueue = `day2-test-directus-${process.pid}`;
    config.temporal = { address: temporal.address, httpAddress: temporal.httpAddress, namespace: temporal.namespace, taskQueue };
    config.deployments.directus.health.ready = `${baseUrl}/server/health`;
    config.deployments.directus.health.version = `${baseUrl}/server/info`;
    configFile = path.join(dir, 'day2.yaml');
    writeFileSync(configFile, YAML.stringify(config));

    await mustCtl('bootstrap');
    await mustCtl('start');
    await waitHealthy();
    // A collection and items through the API, as a Directus user would make them.
    await api('POST', '/collections', {
      collection: 'articles',
      schema: {},
      meta: { icon: 'article' },
      fields: [
        { field: 'id', type: 'integer', meta: { hidden: true }, schema: { is_primary_key: true, has_auto_increment: true } },
        { field: 'title', type: 'string', schema: {} },
        { field: 'body', type: 'text', schema: {} },
      ],
    });
    await api('POST', '/items/articles', [
      { title: 'first', body: 'written under 11.2.2' },
      { title: 'second', body: 'also under 11.2.2' },
      { title: 'third', body: 'kept through every operation' },
    ]);
    const logDir = process.env.DAY2_TEST_LOG_DIR ? path.join(process.env.DAY2_TEST_LOG_DIR, 'directus') : path.join(dir, 'logs');
    worker = await spawnWorker(configFile, { logDir });
  });

  after(async () => {
    if (dir && existsSync(path.join(dir, '.env'))) harvestEnvSecrets(path.join(dir, '.env'));
    await worker?.stop().catch(() => {});
    if (dir) await ctl('stop').catch(() => {});
    await temporal?.stop().catch(() => {});
    await pg?.stop().catch(() => {});
    if (dir && !process.env.DAY2_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  it('examples/directus/day2.yaml is what day2 init writes for it today, plus the hand edits the README names', async () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'day2-directus-init-'));
    try {
      copyFileSync(path.join(EXAMPLE, 'ctl.sh'), path.join(copy, 'ctl.sh'));
      copyFileSync(path.join(EXAMPLE, '.env.example'), path.join(copy, '.env'));
      const r = await runCli(path.join(copy, 'x.yaml'), ['init', ...INIT_FLAGS, '-o', path.join(copy, 'day2.yaml')]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      let edited = readFileSync(path.join(copy, 'day2.yaml'), 'utf8');
      for (const [from, to] of HAND_EDITS) {
        assert.equal(edited.split(from).length, 2, `init no longer writes ${JSON.stringify(from)}: update HAND_EDITS and the README`);
        edited = edited.replace(from, to);
      }
      const undated = (text: string) => text.replace(/on \d{4}-\d{2}-\d{2}\./, 'on <date>.');
      assert.equal(
        undated(edited),
        undated(readFileSync(path.join(EXAMPLE, 'day2.yaml'), 'utf8')),
        "init's output with the hand edits; regenerate it: see examples/directus/README.md",
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('backup, change, restore: every table is back as it was at the backup', async () => {
    const atBackup = await everything();
    const b = await cli('--json', 'backup');
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    const file = (JSON.parse(b.stdout) as { result: { file: string } }).result.file;
    assert.deepEqual(await everything(), atBackup, 'nothing wrote during the backup');

    await api('POST', '/items/articles', { title: 'after the backup', body: 'lost by the restore' });
    await api('PATCH', '/items/articles/1', { title: 'first, edited' });
    await api('DELETE', '/items/articles/2');
    assert.notDeepEqual(await everything(), atBackup);

    const r = await cli('restore', file, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(await everything(), atBackup, 'every table, row for row');
    assert.deepEqual(await titles(), ['first', 'second', 'third'], 'Directus serves the restored items');
    assert.equal(await runningVersion(), OLD);
  });

  it(`upgrade to ${NEW} runs Directus's own migrations and keeps the content`, async () => {
    const before = await everything();
    beforeUpgrade = before;
    const migrationsBefore = await migrations();
    assert.equal(await activityHasComment(), true, `${OLD} still has directus_activity.comment`);

    const r = await cli('--json', 'upgrade', NEW);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(stepDetail(r.stdout, 'Verify version'), `reports ${NEW}`, "day2 asked Directus's /server/info");
    assert.equal(await runningVersion(), NEW);
    assert.equal(envVersion(), NEW);
    assert.deepEqual(await migrations(), [...migrationsBefore, ...NEW_MIGRATIONS].sort(), `${NEW}'s two migrations ran, and only they`);
    assert.equal(await activityHasComment(), false, '20240924A moved legacy comments out and dropped directus_activity.comment');
    const after = await everything();
    assert.equal(after['public.articles'], before['public.articles'], 'the items are untouched');
    assert.deepEqual(await titles(), ['first', 'second', 'third']);
  });

  it(`rollback: ${OLD} runs again, every table as it was before the upgrade`, async () => {
    assert.ok(beforeUpgrade, 'the upgrade test ran first');
    await api('POST', '/items/articles', { title: `written under ${NEW}`, body: 'lost by the rollback' });

    const r = await cli('--json', 'rollback', '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const { result } = JSON.parse(r.stdout) as { result: { outcome: string; from: string; version: string } };
    assert.deepEqual(
      { outcome: result.outcome, from: result.from, version: result.version },
      { outcome: 'rolled-back', from: NEW, version: OLD },
    );
    assert.equal(stepDetail(r.stdout, 'Verify version'), `reports ${OLD}`);
    assert.deepEqual(await everything(), beforeUpgrade, 'every table, row for row, directus_migrations included');
    assert.equal(await activityHasComment(), true);
    assert.equal(await runningVersion(), OLD);
    assert.equal(envVersion(), OLD);
    assert.deepEqual(await titles(), ['first', 'second', 'third']);
  });

  it("no secret of the env file reached a workflow history, the worker's log or the CLI's output", async () => {
    const texts: Array<[string, string]> = [];
    for await (const wf of temporal.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` }))
      texts.push([
        `the history of ${wf.workflowId}`,
        await historyText(await temporal.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()),
      ]);
    assert.ok(texts.length >= 4, `the backup, restore, upgrade and rollback histories (found ${texts.length})`);
    texts.push(["the worker's log", readFileSync(worker!.logFile, 'utf8')], ["the CLI's output", cliOutput.join('\n')]);
    for (const [where, text] of texts) for (const s of secrets) assert.ok(!text.includes(s), `a secret is in ${where}`);
  });
});
