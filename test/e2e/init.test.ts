// `day2 init` as a newcomer runs it: on a compose file (services, bundled PostgreSQL, env
// file, published port and healthcheck read off it), on plain processes (flags), and on a
// terminal (it asks). The written day2.yaml must pass `day2 config check`, and init runs the
// built-in preflight checks against a real PostgreSQL (the test cluster), saying what is
// still missing. No Temporal is needed.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { runCli, runCliOnTerminal } from '../harness/cli';
import { startPostgres, type PostgresCluster } from '../harness/postgres';

let pg: PostgresCluster;
let dir: string;
let dbUrl: string;
const COMPOSE = `services:
  api:
    image: ghcr.io/acme/shop-api:\${SHOP_VERSION:-1.0.0}
    env_file: shop.env
    ports: ["8080:3000"]
    healthcheck:
      test: ["CMD", "curl", "-fsS", "http://localhost:3000/healthz"]
  jobs:
    image: ghcr.io/acme/shop-api:\${SHOP_VERSION:-1.0.0}
    command: ["node", "jobs.js"]
  db:
    image: postgres:16
`;
const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'compose');
const init = (...args: string[]) => runCli(path.join(dir, 'unused.yaml'), ['init', ...args]);
const written = (file = 'day2.yaml') => YAML.parse(readFileSync(path.join(dir, file), 'utf8'));

describe('day2 init', { timeout: 300_000 }, () => {
  before(async () => {
    pg = await startPostgres();
    dbUrl = await pg.createDatabase('shop');
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-init-'));
    writeFileSync(path.join(dir, 'docker-compose.yml'), COMPOSE);
    writeFileSync(path.join(dir, 'shop.env'), `SHOP_VERSION=1.0.0\nDATABASE_URL=${dbUrl}\n`);
  });
  after(async () => {
    await pg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads a compose file: services, bundled PostgreSQL, env file, health URL on the published port, version variable', async () => {
    const r = await init('-o', path.join(dir, 'day2.yaml'), '--name', 'shop');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const d = written().deployments.shop;
    assert.deepEqual(d.runtime, {
      kind: 'compose',
      files: ['docker-compose.yml'],
      apiService: 'api',
      workerService: 'jobs',
      migrateService: 'api',
      databaseService: 'db',
    });
    assert.equal(d.envFile, 'shop.env');
    assert.equal(d.versionVar, 'SHOP_VERSION');
    assert.equal(d.health.ready, 'http://127.0.0.1:8080/healthz');
    assert.match(readFileSync(path.join(dir, 'day2.yaml'), 'utf8'), /TODO migrateCommand/);
    // The preflight ran against the real database the env file names.
    assert.match(r.stdout, /✓ database reachable/);
    assert.match(r.stdout, /still missing \(1\):\n {2}- migrateCommand/);
    const check = await runCli(path.join(dir, 'day2.yaml'), ['config', 'check']);
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(new URL(dbUrl).password || 'never-matches-anything'));
  });

  it('a bundled database with no published port, named by the URL: the PostgreSQL tools run inside it (databaseVia: exec)', async () => {
    writeFileSync(path.join(dir, 'bundled.env'), 'SHOP_VERSION=1.0.0\nDATABASE_URL=postgres://shop:pw@db:5432/shop\n');
    const r = await init('-o', path.join(dir, 'bundled.yaml'), '--name', 'shop', '--env', 'bundled.env', '--no-check');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(written('bundled.yaml').deployments.shop.runtime.databaseVia, 'exec');
    assert.match(
      readFileSync(path.join(dir, 'bundled.yaml'), 'utf8'),
      /databaseVia: exec {3}# DATABASE_URL names the compose service 'db', which publishes no port: pg_dump, pg_restore and psql run inside it/,
    );
    assert.doesNotMatch(r.stdout, /publish its port/);
    const check = await runCli(path.join(dir, 'bundled.yaml'), ['config', 'check']);
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
  });

  it('a bundled database whose port is published: day2 could reach it by URL, and init says how', async () => {
    const published = path.join(dir, 'published');
    mkdirSync(published);
    writeFileSync(path.join(published, 'docker-compose.yml'), `${COMPOSE}    ports: ["127.0.0.1:5432:5432"]\n`);
    writeFileSync(path.join(published, 'shop.env'), 'SHOP_VERSION=1.0.0\nDATABASE_URL=postgres://shop:pw@db:5432/shop\n');
    const r = await runCli(path.join(published, 'unused.yaml'), [
      'init',
      '--compose',
      path.join(published, 'docker-compose.yml'),
      '-o',
      path.join(published, 'day2.yaml'),
      '--name',
      'shop',
      '--no-check',
    ]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /DATABASE_URL points at the compose service 'db', which only containers can resolve: publish its port/);
    assert.equal(YAML.parse(readFileSync(path.join(published, 'day2.yaml'), 'utf8')).deployments.shop.runtime.databaseVia, undefined);
  });

  it('refuses to overwrite a file without --force; nothing written', async () => {
    const before = readFileSync(path.join(dir, 'day2.yaml'), 'utf8');
    const r = await init('-o', path.join(dir, 'day2.yaml'), '--name', 'other');
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /day2\.yaml exists — pass --force/);
    assert.equal(readFileSync(path.join(dir, 'day2.yaml'), 'utf8'), before);
  });

  it('plain processes from flags; without them (and no compose file, no terminal) it says what to pass', async () => {
    const plain = mkdtempSync(path.join(os.tmpdir(), 'day2-init-plain-'));
    try {
      writeFileSync(path.join(plain, '.env'), `APP_VERSION=2.1.0\nDATABASE_URL=${dbUrl}\n`);
      const missing = await runCli(path.join(plain, 'x.yaml'), ['init', '-o', path.join(plain, 'day2.yaml')]);
      assert.equal(missing.exitCode, 2, missing.stdout + missing.stderr);
      assert.match(missing.stderr, /no compose file here, and no --start\/--stop commands/);
      const r = await runCli(path.join(plain, 'x.yaml'), [
        'init',
        '-o',
        path.join(plain, 'day2.yaml'),
        '--start',
        './svc start {version}',
        '--stop',
        './svc stop',
        '--migrate',
        './svc migrate {version}',
        '--health',
        'http://127.0.0.1:9000/ready',
      ]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const d = Object.values(YAML.parse(readFileSync(path.join(plain, 'day2.yaml'), 'utf8')).deployments)[0] as Record<string, any>;
      assert.deepEqual(d.runtime, {
        kind: 'commands',
        start: './svc start {version}',
        stop: './svc stop',
        migrate: './svc migrate {version}',
      });
      assert.equal(d.versionVar, 'APP_VERSION');
      assert.match(r.stdout, /✓ database reachable/);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  it('on a terminal it asks for what it cannot tell', async () => {
    const asked = mkdtempSync(path.join(os.tmpdir(), 'day2-init-tty-'));
    try {
      writeFileSync(path.join(asked, '.env'), `APP_VERSION=1.0.0\nDATABASE_URL=${dbUrl}\n`);
      // name, start, stop, migrate, env file (default), health URL
      const answers = 'billing\n./run start\n./run stop\n\n\nhttp://127.0.0.1:7000/health\n';
      const r = await runCliOnTerminal(path.join(asked, 'x.yaml'), ['init', '-o', path.join(asked, 'day2.yaml'), '--no-check'], answers);
      assert.equal(r.exitCode, 0, r.stdout);
      assert.match(r.stdout, /Deployment name \[day2-init-tty-\w+\]:/);
      const d = YAML.parse(readFileSync(path.join(asked, 'day2.yaml'), 'utf8')).deployments.billing;
      assert.deepEqual(d.runtime, { kind: 'commands', start: './run start', stop: './run stop' });
      assert.equal(d.health.ready, 'http://127.0.0.1:7000/health');
      assert.equal(d.envFile, '.env');
    } finally {
      rmSync(asked, { recursive: true, force: true });
    }
  });

  it('examples/compose/day2.yaml is what init writes for that compose file today', async () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'day2-init-example-'));
    try {
      copyFileSync(path.join(EXAMPLE, 'docker-compose.yml'), path.join(copy, 'docker-compose.yml'));
      copyFileSync(path.join(EXAMPLE, '.env.example'), path.join(copy, '.env'));
      const r = await runCli(path.join(copy, 'x.yaml'), ['init', '--name', 'shop', '--no-check', '-o', path.join(copy, 'day2.yaml')]);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const undated = (f: string) => readFileSync(f, 'utf8').replace(/on \d{4}-\d{2}-\d{2}\./, 'on <date>.');
      assert.equal(
        undated(path.join(copy, 'day2.yaml')),
        undated(path.join(EXAMPLE, 'day2.yaml')),
        'regenerate it: see examples/compose/README.md',
      );
      assert.match(r.stdout, /still missing \(1\):\n {2}- migrateCommand/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
