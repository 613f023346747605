// The argv builders of a database reached inside docker compose (runtime.databaseVia: exec):
// what `docker compose … exec -T` is given for each PostgreSQL program, where the password
// goes (the environment, named by -e), and the config that turns it on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  composeExecFor,
  containerAddressArgv,
  containerIdArgv,
  execArgv,
  withHost,
  type ComposeExec,
} from '../../src/activities/shared/compose-database';
import { programUrl, type DatabaseExec } from '../../src/activities/shared/pg-connection';
import { pgProgramCommand } from '../../src/activities/shared/pg-programs';
import { composeRuntimeSchema } from '../../src/domain/config-schema';

const runtime = composeRuntimeSchema.parse({
  kind: 'compose',
  cwd: '/srv/shop',
  files: ['docker-compose.yml', 'docker-compose.prod.yml'],
  project: 'shop',
  databaseService: 'postgres',
  databaseVia: 'exec',
});
const via: ComposeExec = composeExecFor(runtime, '/srv/shop/.env');
const dc = ['docker', 'compose', '--env-file', '/srv/shop/.env', '-f', 'docker-compose.yml', '-f', 'docker-compose.prod.yml', '-p', 'shop'];
const exec: DatabaseExec = { via, address: '172.18.0.3', serviceHost: 'postgres' };

describe('compose exec argv', () => {
  it('exec -T, -e names only, then the service and the program', () => {
    assert.deepEqual(execArgv(via, 'pg_dump', ['--version']), [...dc, 'exec', '-T', 'postgres', 'pg_dump', '--version']);
    assert.deepEqual(execArgv(via, 'psql', ['-c', 'select 1'], ['PGPASSWORD']), [
      ...dc,
      'exec',
      '-T',
      '-e',
      'PGPASSWORD',
      'postgres',
      'psql',
      '-c',
      'select 1',
    ]);
    assert.equal(via.cwd, '/srv/shop');
  });

  it('finds the container by service, then its addresses', () => {
    assert.deepEqual(containerIdArgv(via), [...dc, 'ps', '-q', 'postgres']);
    assert.deepEqual(containerAddressArgv('abc123'), [
      'docker',
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}',
      'abc123',
    ]);
  });

  it('pg_dump in the service: the URL names the service host, the password is in the env only', () => {
    const url = withHost('postgres://owner:s3cret%21@postgres:5432/shop', exec.address);
    assert.equal(url, 'postgres://owner:s3cret%21@172.18.0.3:5432/shop', 'node-pg goes to the container address, same port');
    const run = pgProgramCommand({ tool: 'pg_dump', args: ['--format=custom'], url, exec });
    assert.equal(run.command, 'docker');
    assert.deepEqual(run.args, [
      ...dc.slice(1),
      'exec',
      '-T',
      '-e',
      'PGPASSWORD',
      'postgres',
      'pg_dump',
      '--no-password',
      '--dbname=postgres://owner@postgres:5432/shop',
      '--format=custom',
    ]);
    assert.deepEqual(run.env, { PGPASSWORD: 's3cret!' });
    assert.equal(run.cwd, '/srv/shop');
    assert.ok(!run.args.join(' ').includes('s3cret'));
  });

  it('pg_restore --list in the service reads stdin: no URL, no -e', () => {
    const run = pgProgramCommand({ tool: 'pg_restore', args: ['--list'], exec });
    assert.deepEqual(run.args, [...dc.slice(1), 'exec', '-T', 'postgres', 'pg_restore', '--no-password', '--list']);
    assert.deepEqual(run.env, {});
  });

  it('without a password there is nothing to pass', () => {
    const run = pgProgramCommand({ tool: 'psql', args: ['--file=-'], url: 'postgres://owner@172.18.0.3:5432/shop', exec });
    assert.ok(!run.args.includes('-e'));
    assert.ok(run.args.includes('--dbname=postgres://owner@postgres:5432/shop'));
  });

  it('programUrl leaves a URL alone when the database is reached by URL', () => {
    assert.equal(programUrl('postgres://a@127.0.0.1:5433/x', undefined), 'postgres://a@127.0.0.1:5433/x');
    assert.equal(withHost('postgres://a@db:5432/x', 'fd00::3'), 'postgres://a@[fd00::3]:5432/x');
  });
});

describe('runtime.databaseVia', () => {
  it('defaults to url', () => {
    assert.equal(composeRuntimeSchema.parse({ kind: 'compose' }).databaseVia, 'url');
  });
  it('exec needs databaseService', () => {
    const r = composeRuntimeSchema.safeParse({ kind: 'compose', databaseVia: 'exec' });
    assert.equal(r.success, false);
    assert.match(
      JSON.stringify(r.error?.issues),
      /'exec' runs the PostgreSQL tools inside the compose service named by databaseService, and no databaseService is set/,
    );
  });
  it('refuses other values', () => {
    assert.equal(composeRuntimeSchema.safeParse({ kind: 'compose', databaseService: 'db', databaseVia: 'ssh' }).success, false);
  });
});
