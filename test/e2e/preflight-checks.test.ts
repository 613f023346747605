// The built-in preflight checks against a real PostgreSQL: what passes on a sound
// deployment, and the one-line reason for each way a deployment can be unfit. No detail
// ever carries a value from the env file (the database password is one here).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinPreflightChecks, formatBytes } from '../../src/activities/checks/preflight';
import { parseConfig } from '../../src/config';
import type { CheckResult } from '../../src/domain/types';
import { freePort } from '../harness/free-port';
import { startPostgres, type PostgresCluster } from '../harness/postgres';

const PASSWORD = 'pf-Secret-9f2c';
let pg: PostgresCluster;
let root: string;
let n = 0;

before(async () => {
  pg = await startPostgres();
  root = mkdtempSync(path.join(os.tmpdir(), 'day2-preflight-'));
});
after(async () => {
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  env?: string;
  example?: string;
  version?: string;
  backupDir?: (dir: string) => void;
}

/** A deployment directory as `setup` describes it; returns the checks' results by name. */
async function preflightOf(setup: Setup): Promise<Map<string, CheckResult>> {
  const dir = path.join(root, `d${++n}`);
  mkdirSync(dir);
  const dbUrl = (await pg.createDatabase(`pf${n}`)).replace('postgres@', `postgres:${PASSWORD}@`);
  writeFileSync(path.join(dir, '.env'), setup.env ?? `DATABASE_URL=${dbUrl}\nAPP_VERSION=1.0.0\nPORT=8080\n`);
  writeFileSync(
    path.join(dir, '.env.example'),
    setup.example ?? 'DATABASE_URL=postgres://app@db/app\nAPP_VERSION=1.0.0\nPORT=80\n# OPTIONAL_TOKEN=\n',
  );
  writeFileSync(path.join(dir, 'VERSION'), `${setup.version ?? '1.0.0'}\n`);
  setup.backupDir?.(path.join(dir, 'backups'));
  const config = parseConfig(
    {
      deployments: {
        app: {
          runtime: { kind: 'commands', start: 'true', stop: 'true' },
          envFile: '.env',
          versionFile: 'VERSION',
          envExample: '.env.example',
          deprecatedVars: ['LEGACY_MODE'],
          health: { ready: 'http://127.0.0.1:1/ready' },
          backup: { dir: 'backups' },
        },
      },
    },
    dir,
  );
  const results = await builtinPreflightChecks(config.deployments.app!);
  for (const r of results) assert.ok(!r.detail.includes(PASSWORD), `${r.name} leaks the password: ${r.detail}`);
  return new Map(results.map((r) => [r.name, r]));
}

const failing = (results: Map<string, CheckResult>) => [...results.values()].filter((r) => !r.ok).map((r) => r.name);

describe('built-in preflight checks', () => {
  it('a sound deployment passes every check, in order, each saying what it saw', async () => {
    const results = await preflightOf({});
    assert.deepEqual(
      [...results.keys()],
      [
        'env file has the required variables',
        'version file agrees with the env file',
        'database reachable',
        'pg_dump can dump the server',
        'backup directory can take a backup',
      ],
    );
    assert.deepEqual(failing(results), [], JSON.stringify([...results.values()]));
    assert.match(
      results.get('env file has the required variables')!.detail,
      /^3 required variables set \(.*\.env against .*\.env\.example\)$/,
    );
    assert.equal(results.get('version file agrees with the env file')!.detail, 'both say 1.0.0');
    assert.match(results.get('database reachable')!.detail, /^pf\d+@127\.0\.0\.1:\d+: PostgreSQL \d+\.\d+, \d+\.\d MiB$/);
    assert.match(results.get('pg_dump can dump the server')!.detail, /^pg_dump \(PostgreSQL\) \d+.*, server \d+\.\d+$/);
    assert.match(
      results.get('backup directory can take a backup')!.detail,
      /does not exist yet: the first backup creates it \(mode 0700\)$/,
    );
  });

  it('names each variable .env.example requires that the env file lacks or leaves empty; optional and deprecated ones are not required', async () => {
    const results = await preflightOf({
      env: `DATABASE_URL=postgres://postgres:${PASSWORD}@127.0.0.1:${pg.port}/postgres\nAPP_VERSION=1.0.0\nAPI_TOKEN=\n`,
      example: 'DATABASE_URL=x\nAPP_VERSION=1\nPORT=80\nAPI_TOKEN=changeme\nLEGACY_MODE=1\n# OPTIONAL_TOKEN=\n',
    });
    assert.deepEqual(failing(results), ['env file has the required variables']);
    assert.match(
      results.get('env file has the required variables')!.detail,
      /^missing or empty: PORT, API_TOKEN \(.*\.env against .*\.env\.example\) — add them, then run preflight again$/,
    );
  });

  it('a version file that disagrees with the env file says both values', async () => {
    const results = await preflightOf({ version: '1.1.0' });
    assert.deepEqual(failing(results), ['version file agrees with the env file']);
    assert.match(
      results.get('version file agrees with the env file')!.detail,
      /^APP_VERSION=1\.0\.0 but .*VERSION says 1\.1\.0 — set both to the release that runs$/,
    );
  });

  it('an unreachable database fails its check and leaves pg_dump unverifiable, without the URL', async () => {
    const closed = await freePort();
    const results = await preflightOf({
      env: `DATABASE_URL=postgres://app:${PASSWORD}@127.0.0.1:${closed}/app\nAPP_VERSION=1.0.0\nPORT=1\n`,
    });
    assert.deepEqual(failing(results), ['database reachable', 'pg_dump can dump the server']);
    assert.match(
      results.get('database reachable')!.detail,
      new RegExp(
        `^cannot reach the database app@127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\) — is it running, and is DATABASE_URL in .*\\.env right\\?`,
      ),
    );
    assert.match(results.get('pg_dump can dump the server')!.detail, /the server's version is unknown \(database unreachable\)$/);
    assert.match(results.get('backup directory can take a backup')!.detail, /does not exist yet/);
  });

  it('a database that does not exist is a refused login, and a missing env file fails everything that needs it', async () => {
    const noDb = await preflightOf({
      env: `DATABASE_URL=postgres://postgres:${PASSWORD}@127.0.0.1:${pg.port}/nonesuch\nAPP_VERSION=1.0.0\nPORT=1\n`,
    });
    assert.match(
      noDb.get('database reachable')!.detail,
      /^the database nonesuch@127\.0\.0\.1:\d+ refused day2 \(no such database: .*\) — check DATABASE_URL in /,
    );

    const dir = path.join(root, 'no-env');
    mkdirSync(dir);
    const config = parseConfig(
      {
        deployments: {
          app: {
            runtime: { kind: 'commands', start: 'true', stop: 'true' },
            envFile: '.env',
            health: { ready: 'http://127.0.0.1:1/' },
            backup: { dir: 'b' },
          },
        },
      },
      dir,
    );
    const results = await builtinPreflightChecks(config.deployments.app!);
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => r.name),
      ['env file has the required variables', 'database reachable', 'pg_dump can dump the server'],
    );
    assert.match(results[0]!.detail, /^env file .*no-env\/\.env not found/);
  });

  it('the backup directory: a loose mode is named, a file in its place fails', async () => {
    const loose = await preflightOf({ backupDir: (d) => (mkdirSync(d), chmodSync(d, 0o755)) });
    assert.deepEqual(failing(loose), []);
    assert.match(
      loose.get('backup directory can take a backup')!.detail,
      /^\d+(\.\d)? [KMGT]?i?B free in .*backups; mode 0755 lets others read backups \(chmod 700 .*backups\)$/,
    );
    const notDir = await preflightOf({ backupDir: (d) => writeFileSync(d, 'oops') });
    assert.deepEqual(failing(notDir), ['backup directory can take a backup']);
    assert.match(notDir.get('backup directory can take a backup')!.detail, /backups is not a directory$/);
  });

  it('formatBytes', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB']);
  });
});
