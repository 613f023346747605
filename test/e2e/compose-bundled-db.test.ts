// A bundled database reached inside docker compose (runtime.databaseVia: exec), end to end:
// real Temporal, real PostgreSQL, a worker process and the CLI.
//
// STAND-IN DOCKER (no Docker engine here): `docker` on the worker's PATH is
// test/harness/stand-in-docker/docker. It records each argv, runs `compose … exec -T postgres
// <pg tool> …` as the real PostgreSQL tool against the test cluster (the URL's
// postgres:5432 mapped to the cluster), answers `ps -q` / `inspect` with an address where a
// small TCP relay listens on port 5432 in front of the cluster (so node-pg lands where it
// would on a Docker host: the container's address, the URL's port), and runs the ledger's
// own start/stop for `compose up` / `compose stop`. What is tested for real: the exact argv,
// the streaming of the archive through stdout and stdin, the data round trip, the password
// reaching the tools only through `-e PGPASSWORD` (the cluster demands it: scram), and the
// messages of a stopped service. What is not: Docker itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import pg from 'pg';
import YAML from 'yaml';
import { ctlCommand, must, recordTestSecrets } from '../../examples/ledger-deployment';
import { databaseActivities } from '../../src/activities/database';
import { composeExecOf } from '../../src/activities/shared/compose-database';
import { activityDeps } from '../../src/activities/shared/deps';
import { pgProgramMajor } from '../../src/activities/shared/pg-programs';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { checkContextFor, evaluateGate } from '../../src/approver/evaluate-gate';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { pgTool } from '../../src/lib/pg-tools';
import { startE2E, type E2E } from '../harness/e2e';

const STAND_IN_DIR = fileURLToPath(new URL('../harness/stand-in-docker', import.meta.url));
const OWNER = 'cdb_owner';
const SECRET = `Cdb-${randomBytes(12).toString('hex')}`;

let e2e: E2E;
let relay: net.Server;
let address: string;
let argvLog: string;
let stateDir: string;
let hostEnv: string;

/** A loopback address of our own (127.x.y.z), so port 5432 is free there whatever else runs. */
function loopbackAddress(): string {
  const b = randomBytes(3);
  return `127.${(b[0]! % 200) + 20}.${b[1]! % 250}.${(b[2]! % 250) + 2}`;
}

/** The "container's address": port 5432 there relays to the test cluster. */
async function startRelay(clusterPort: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(clusterPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(5432, address, resolve);
  });
  return server;
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Every docker call the stand-in saw since `from` (an index into the log). */
function dockerCalls(from = 0): string[][] {
  if (!existsSync(argvLog)) return [];
  return readFileSync(argvLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(from)
    .map((line) => line.split('\x1f'));
}
const callCount = () => dockerCalls().length;

const liveChecksums = () => tableChecksums(e2e.pg.urlFor('cdb'));

/** The ledger's ctl on the "containers'" env file (the cluster's own URL). */
const hostCtl = (args: string) =>
  execa(ctlCommand(hostEnv, args), { shell: true, reject: false }).then((r) => ({
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    exitCode: r.exitCode ?? 1,
  }));

before(async () => {
  e2e = await startE2E('cdb', { keep: 5 });
  address = loopbackAddress();
  relay = await startRelay(e2e.pg.port);
  const dir = e2e.deployment.dir;
  argvLog = path.join(dir, 'docker-argv.log');
  stateDir = path.join(dir, 'stand-in-state');
  mkdirSync(stateDir);

  // The database owner logs in with a password, which the cluster demands (scram) on TCP.
  recordTestSecrets(SECRET);
  await sql(
    e2e.pg.adminUrl,
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${OWNER}') THEN CREATE ROLE ${OWNER} LOGIN SUPERUSER; END IF;
     END $$; ALTER ROLE ${OWNER} PASSWORD '${SECRET}'`,
  );
  // This run's own cluster (scripts/test.ts's, or the harness's): the rule names only our role.
  const client = new pg.Client({ connectionString: e2e.pg.adminUrl });
  await client.connect();
  const hba = (await client.query<{ hba_file: string }>('SHOW hba_file')).rows[0]!.hba_file;
  const rule = `host all ${OWNER} 127.0.0.1/32 scram-sha-256\n`;
  const rules = readFileSync(hba, 'utf8');
  if (!rules.startsWith(rule)) writeFileSync(hba, rule + rules);
  await client.query('SELECT pg_reload_conf()');
  await client.end();

  // The "containers" (the ledger's api and worker) use the cluster directly, from a copy
  // of the env file; day2 reads the deployment's env file, whose URL names the service.
  const envFile = e2e.deployment.envFile;
  hostEnv = `${envFile}.host`;
  copyFileSync(envFile, hostEnv);
  const env = readFileSync(envFile, 'utf8').replace(/^DATABASE_URL=.*$/m, `DATABASE_URL=postgres://${OWNER}:${SECRET}@postgres:5432/cdb`);
  writeFileSync(envFile, env);

  const config = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
  const deployment = config.deployments.cdb;
  deployment.runtime = {
    kind: 'compose',
    cwd: '.',
    files: ['docker-compose.yml'],
    project: 'cdb',
    apiService: 'api',
    workerService: 'worker',
    databaseService: 'postgres',
    databaseVia: 'exec',
    waitTimeoutSeconds: 60,
  };
  deployment.verify = [
    { kind: 'command', name: 'vault chain intact', command: ctlCommand(hostEnv, 'scan') },
    { kind: 'sql', name: 'entries are back', query: 'select count(*) > 0 from entries', expect: 'true' },
  ];
  deployment.preflight = [];
  writeFileSync(e2e.deployment.configFile, YAML.stringify(config));

  await must(hostCtl('start'), 'start');
  await must(hostCtl('seed --entries 20'), 'seed');
  await e2e.startWorker({
    PATH: `${STAND_IN_DIR}:${process.env.PATH}`,
    STANDIN_DOCKER_LOG: argvLog,
    STANDIN_DOCKER_STATE_DIR: stateDir,
    STANDIN_DOCKER_DB_SERVICE: 'postgres',
    STANDIN_DOCKER_DB_ADDRESS: address,
    STANDIN_DOCKER_HOST_MAP: `postgres:5432=127.0.0.1:${e2e.pg.port}`,
    STANDIN_DOCKER_PG_BIN: path.dirname(pgTool('pg_dump')),
    STANDIN_DOCKER_ON_STOP: ctlCommand(hostEnv, 'stop'),
    STANDIN_DOCKER_ON_UP: ctlCommand(hostEnv, 'start'),
  });
});

after(async () => {
  await (hostEnv ? hostCtl('stop') : Promise.resolve()).catch(() => {});
  await e2e?.teardown();
  await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
});

describe('compose bundled database — stand-in docker (no Docker engine here): exact argv', () => {
  const dc = () => ['docker', 'compose', '--env-file', e2e.deployment.envFile, '-f', 'docker-compose.yml', '-p', 'cdb'];
  const exec = (...rest: string[]) => [...dc(), 'exec', '-T', ...rest];
  let file: string;
  let atBackup: Record<string, string>;

  test('backup: pg_dump runs in the service, streamed into the host file; its version asked there; node-pg at the container address', async () => {
    const from = callCount();
    file = await e2e.backup();
    atBackup = await liveChecksums();
    const calls = dockerCalls(from);

    assert.ok(
      calls.some((c) => JSON.stringify(c) === JSON.stringify([...dc(), 'ps', '-q', 'postgres'])),
      'the container is looked up by service',
    );
    assert.ok(
      calls.some(
        (c) =>
          JSON.stringify(c) ===
          JSON.stringify([
            'docker',
            'inspect',
            '-f',
            '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
            'standin-postgres-container',
          ]),
      ),
      'and its address asked',
    );
    assert.deepEqual(
      calls.filter((c) => c.includes('exec')),
      [
        exec('postgres', 'pg_dump', '--version'),
        exec(
          '-e',
          'PGPASSWORD',
          'postgres',
          'pg_dump',
          '--no-password',
          `--dbname=postgres://${OWNER}@postgres:5432/cdb`,
          '--format=custom',
        ),
        exec('postgres', 'pg_restore', '--no-password', '--list'),
      ],
    );
    const dump = readFileSync(path.join(e2e.deployment.backupDir, file));
    assert.equal(dump.subarray(0, 5).toString('latin1'), 'PGDMP', 'the stream landed in the host file');
    const manifest = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${file}.manifest.json`), 'utf8'));
    assert.equal(manifest.database, 'cdb');
    assert.equal(manifest.sizeBytes, dump.length);
    assert.ok(manifest.tocEntries > 0);
    assert.equal(readdirSync(e2e.deployment.backupDir).filter((f) => f.includes('.partial')).length, 0, 'nothing partial left');
  });

  test('restore: pg_restore in the service from stdin, one job, into staging; swap; every table back exactly', async () => {
    await must(hostCtl('seed --entries 7'), 'seed more');
    assert.notDeepEqual(await liveChecksums(), atBackup);
    const from = callCount();

    const started = await e2e.cli('restore', file);
    assert.equal(started.exitCode, 4, `paused at the confirmation gate: ${started.stdout}${started.stderr}`);
    const approved = await e2e.cli('approve', e2e.workflowId, '--gate', 'confirm-restore', '--reason', 'test restore');
    assert.equal(approved.exitCode, 0, approved.stderr);
    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);

    assert.deepEqual(await liveChecksums(), atBackup, 'per-table checksums equal those at the backup');
    const scan = await hostCtl('scan');
    assert.equal(scan.exitCode, 0, scan.stdout);

    const calls = dockerCalls(from);
    const execs = calls.filter((c) => c.includes('exec'));
    const restore = execs.find((c) => c.includes('--exit-on-error'));
    assert.ok(restore, `a pg_restore ran in the service: ${JSON.stringify(execs)}`);
    const staging = /^--dbname=postgres:\/\/cdb_owner@postgres:5432\/(\S+)$/.exec(restore.find((a) => a.startsWith('--dbname='))!)?.[1];
    assert.ok(staging && staging !== 'cdb', 'into a staging database');
    assert.deepEqual(restore, [
      ...exec('-e', 'PGPASSWORD', 'postgres', 'pg_restore', '--no-password', `--dbname=postgres://${OWNER}@postgres:5432/${staging}`),
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--verbose',
    ]);
    assert.ok(!restore.some((a) => a.startsWith('--jobs')), 'one job: the archive comes on stdin');
    assert.ok(
      execs.some((c) => JSON.stringify(c) === JSON.stringify(exec('postgres', 'pg_restore', '--no-password', '--list'))),
      'the backup was verified inside the service',
    );
    const services = calls.filter((c) => !c.includes('exec') && !c.includes('ps') && c[1] === 'compose').map((c) => c.slice(dc().length));
    assert.deepEqual(services, [
      ['stop', 'api', 'worker'],
      ['up', '-d', '--wait', '--wait-timeout', '60'],
    ]);
  });

  test('the password is never on an argv nor in the worker log (and the cluster does demand it)', async () => {
    const withoutPassword = new pg.Client({ connectionString: `postgres://${OWNER}@127.0.0.1:${e2e.pg.port}/cdb` });
    withoutPassword.on('error', () => {});
    await assert.rejects(withoutPassword.connect(), /password/);
    await withoutPassword.end().catch(() => {});
    const all = dockerCalls();
    assert.ok(all.length > 0);
    for (const argv of all) assert.ok(!argv.join(' ').includes(SECRET), `secret on argv: ${argv.join(' ')}`);
    const log = readFileSync(e2e.worker!.logFile, 'utf8');
    assert.ok(!log.includes(SECRET), 'secret in the worker log');
  });

  test('a stopped database service: the backup says which service and what to do, and writes nothing', async () => {
    const before = readdirSync(e2e.deployment.backupDir).sort();
    writeFileSync(path.join(stateDir, 'postgres.stopped'), '');
    try {
      const r = await e2e.cli('backup');
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout + r.stderr,
        /the database service 'postgres' has no running container — is the compose service 'postgres' running\? \(docker compose ps postgres; start it with docker compose up -d postgres\); nothing was changed/,
      );
    } finally {
      rmSync(path.join(stateDir, 'postgres.stopped'), { force: true });
    }
    assert.deepEqual(readdirSync(e2e.deployment.backupDir).sort(), before);
  });
});

const parseConfigFor = (work: string, more: Record<string, unknown> = {}) =>
  parseConfig(
    {
      deployments: {
        limited: {
          runtime: { kind: 'compose', project: 'cdb', databaseService: 'postgres', databaseVia: 'exec' },
          envFile: '.env',
          health: { ready: 'http://127.0.0.1:1/ready' },
          backup: { dir: 'backups' },
          ...more,
        },
      },
    },
    work,
  );

describe('compose bundled database, restore in place (a role without CREATEDB) — stand-in docker (no Docker engine here): exact argv', () => {
  // The activities in this process, on a second deployment whose role owns its database but
  // may not create one: the staging restore is refused, the in-place one pipes pg_restore
  // --file=- into psql, both inside the service.
  const APP = 'cdb_app';
  let work: string;
  let acts: ReturnType<typeof databaseActivities>;
  let appUrl: string;
  let backupData: Record<string, string>;
  const file = 'cdbapp-backup.dump';
  const run = (runId: string, fileName: string) => ({
    deployment: 'limited',
    fileName,
    workflowId: 'day2-limited',
    runId,
    createdAt: '2026-12-07T10:00:00.000Z',
  });

  before(async () => {
    work = path.join(e2e.deployment.dir, 'limited');
    mkdirSync(work);
    await sql(
      e2e.pg.adminUrl,
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP}') THEN CREATE ROLE ${APP} LOGIN NOCREATEDB NOSUPERUSER; END IF;
       END $$; ALTER ROLE ${APP} PASSWORD '${SECRET}'`,
    );
    const client = new pg.Client({ connectionString: e2e.pg.adminUrl });
    await client.connect();
    const hba = (await client.query<{ hba_file: string }>('SHOW hba_file')).rows[0]!.hba_file;
    const rule = `host all ${APP} 127.0.0.1/32 scram-sha-256\n`;
    const rules = readFileSync(hba, 'utf8');
    if (!rules.includes(rule)) writeFileSync(hba, rule + rules);
    await client.query('SELECT pg_reload_conf()');
    await client.end();
    await e2e.pg.createDatabase('cdbapp');
    await sql(e2e.pg.adminUrl, `ALTER DATABASE cdbapp OWNER TO ${APP}`);
    appUrl = `postgres://${APP}:${SECRET}@127.0.0.1:${e2e.pg.port}/cdbapp`;
    await sql(
      appUrl,
      `CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
       INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 50) g;`,
    );
    writeFileSync(path.join(work, '.env'), `DATABASE_URL=postgres://${APP}:${SECRET}@postgres:5432/cdbapp\n`, { mode: 0o600 });
    const config = parseConfigFor(work);
    acts = databaseActivities(activityDeps({ config, logger: createLogger('test', 'silent') }));
    Object.assign(process.env, {
      PATH: `${STAND_IN_DIR}:${process.env.PATH}`,
      STANDIN_DOCKER_LOG: argvLog,
      STANDIN_DOCKER_STATE_DIR: stateDir,
      STANDIN_DOCKER_DB_SERVICE: 'postgres',
      STANDIN_DOCKER_DB_ADDRESS: address,
      STANDIN_DOCKER_HOST_MAP: `postgres:5432=127.0.0.1:${e2e.pg.port}`,
      STANDIN_DOCKER_PG_BIN: path.dirname(pgTool('pg_dump')),
    });
    await acts.createBackup(run('run-limited', file));
    backupData = await tableChecksums(appUrl);
    // Made after the backup, as a newer migration would: in-place restores drop it first.
    await sql(appUrl, `UPDATE accounts SET name = name || '!'; CREATE TABLE added_later (account int REFERENCES accounts (id));`);
  });

  test('staging is refused (NoCreateDb); in place: safety dump, then pg_restore --file=- | psql, both in the service', async () => {
    const dc = ['docker', 'compose', '--env-file', path.join(work, '.env'), '-f', 'docker-compose.yml', '-p', 'cdb'];
    const exec = (...rest: string[]) => [...dc, 'exec', '-T', ...rest];
    await assert.rejects(acts.stageRestore({ deployment: 'limited', file, stagingDb: 'cdbapp_restore_1' }), { type: 'NoCreateDb' });
    const from = callCount();
    const outcome = await acts.restoreInPlace({ deployment: 'limited', file, safetyFile: 'cdbapp-pre-restore.dump' });
    assert.deepEqual(outcome.dropped, ['public.added_later (table)']);
    assert.deepEqual(await tableChecksums(appUrl), backupData, 'exactly the backup');

    const execs = dockerCalls(from).filter((c) => c.includes('exec'));
    const url = `--dbname=postgres://${APP}@postgres:5432/cdbapp`;
    const psql = execs.find((c) => c.includes('psql'));
    assert.ok(psql, JSON.stringify(execs));
    assert.deepEqual(execs, [
      exec('postgres', 'pg_dump', '--version'),
      exec('-e', 'PGPASSWORD', 'postgres', 'pg_dump', '--no-password', url, '--format=custom'),
      exec('postgres', 'pg_restore', '--no-password', '--list'),
      exec('postgres', 'pg_restore', '--no-password', '--list'),
      exec('postgres', 'pg_restore', '--no-password', '--file=-', '--clean', '--if-exists', '--no-owner', '--no-acl'),
      exec(
        '-e',
        'PGPASSWORD',
        'postgres',
        'psql',
        '--no-password',
        url,
        '--no-psqlrc',
        '--quiet',
        '--set=ON_ERROR_STOP=1',
        '--single-transaction',
        '--command',
        'DROP TABLE IF EXISTS "public"."added_later" CASCADE;',
        '--file=-',
      ),
    ]);
    for (const argv of dockerCalls()) assert.ok(!argv.join(' ').includes(SECRET), `secret on argv: ${argv.join(' ')}`);
  });

  test("the approver's gate sql checks connect at the container's address, not the service name only compose resolves", async () => {
    const config = parseConfigFor(work, {
      gates: {
        'confirm-restore': {
          policy: 'auto',
          checks: [{ kind: 'sql', name: 'accounts present', query: 'select count(*) >= 50 from accounts', expect: 'true' }],
        },
      },
    });
    const d = config.deployments.limited!;
    const context = await checkContextFor(d);
    assert.equal(new URL(context.databaseUrl!).hostname, address);
    const verdict = await evaluateGate(d.gates['confirm-restore'], context, { stillWaiting: async () => true });
    assert.equal(verdict.action, 'approve', verdict.reason);
  });

  test('the service stopping after its address was found: docker compose exec fails, and the message names the service', async () => {
    const via = composeExecOf(parseConfigFor(work).deployments.limited!)!;
    writeFileSync(path.join(stateDir, 'postgres.stopped'), '');
    try {
      await assert.rejects(pgProgramMajor('pg_dump', via), {
        name: 'DatabaseUnreachable',
        message:
          'cannot run pg_dump in the database service \'postgres\' (docker compose exec, exit 1: service "postgres" is not running) — ' +
          "is the compose service 'postgres' running? (docker compose ps postgres; start it with docker compose up -d postgres); nothing was changed",
      });
    } finally {
      rmSync(path.join(stateDir, 'postgres.stopped'), { force: true });
    }
  });
});
