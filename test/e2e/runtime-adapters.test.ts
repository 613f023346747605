import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { parseConfig } from '../../src/config';
import { commandsRuntimeSchema, composeRuntimeSchema } from '../../src/domain/config-schema';
import { createLogger } from '../../src/logger';
import { runtimeActivities } from '../../src/activities/runtime';
import { execaRunner, type CommandRunner, type RunOptions, type RunResult } from '../../src/activities/runtime/adapter';
import { commandsAdapter, substituteVersion } from '../../src/activities/runtime/commands';
import { composeAdapter } from '../../src/activities/runtime/compose';
import { activityDeps } from '../../src/activities/shared/deps';

const logger = createLogger('test', 'silent');

describe('commands adapter (real shell commands)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-cmd-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const adapter = (extra: Record<string, unknown> = {}) =>
    commandsAdapter(
      commandsRuntimeSchema.parse({
        kind: 'commands',
        cwd: dir,
        start: 'echo started > start.txt',
        stop: 'echo all >> stop.txt',
        pull: 'echo {version} > pulled.txt',
        migrate: 'printf "%s %s" {version} "$DATABASE_URL" > migrated.txt',
        rehashKeys: 'touch rehashed.txt',
        version: 'echo noise; echo 2.0.1',
        ...extra,
      }),
      execaRunner(logger),
      logger,
      { envFile: envFile(), versionVar: 'APP_VERSION' },
    );
  const envFile = () => {
    const file = path.join(dir, '.env');
    if (!existsSync(file)) writeFileSync(file, "APP_MODE=from-env-file\nDATABASE_URL='postgres://app@db/app'\n");
    return file;
  };
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8').trim();

  it("every command gets the env file's variables; day2's own (the migration URL) win", async () => {
    const a = adapter({ start: 'printf "%s %s" "$APP_MODE" "$DATABASE_URL" > start-env.txt' });
    await a.start();
    assert.equal(read('start-env.txt'), 'from-env-file postgres://app@db/app');
    await a.migrate('1.0.0', 'postgres://owner@db/app');
    assert.equal(read('migrated.txt'), '1.0.0 postgres://owner@db/app');
  });

  it('runs start, stop, pull, migrate and rehash in the runtime cwd with {version} substituted', async () => {
    const a = adapter();
    await a.start();
    await a.stop('worker'); // no stopWorker: falls back to stop
    await a.pull('1.4.2');
    await a.migrate('1.4.2', 'postgres://owner:pw@db/app');
    await a.rehashKeys();
    assert.equal(read('start.txt'), 'started');
    assert.equal(read('stop.txt'), 'all');
    assert.equal(read('pulled.txt'), '1.4.2');
    assert.equal(read('migrated.txt'), '1.4.2 postgres://owner:pw@db/app', 'migration URL reaches the command via env');
    assert.ok(existsSync(path.join(dir, 'rehashed.txt')));
    assert.equal(await a.currentVersion(), '2.0.1', 'last line of the version command');
  });

  it('start runs at the release the env file names ({version}); without one it says where to set it', async () => {
    const a = adapter({ start: 'echo {version} > started-at.txt' });
    await assert.rejects(a.start(), /runtime.start uses \{version\}, but neither APP_VERSION in .*\.env names the running release/);
    writeFileSync(path.join(dir, '.env'), "APP_VERSION=1.4.2\nDATABASE_URL='postgres://app@db/app'\n");
    await a.start();
    assert.equal(read('started-at.txt'), '1.4.2');
  });

  it('support bundle: status prints the state; logFiles are tailed, a missing one is named', async () => {
    writeFileSync(path.join(dir, 'api.log'), Array.from({ length: 30 }, (_, i) => `api line ${i}`).join('\n') + '\n');
    const a = adapter({ status: 'echo "api: running"', logFiles: { api: path.join(dir, 'api.log'), worker: path.join(dir, 'gone.log') } });
    assert.equal((await a.serviceState())?.trim(), 'api: running');
    const logs = await a.serviceLogs(3);
    assert.equal(logs.api, 'api line 27\napi line 28\napi line 29');
    assert.equal(logs.worker, `(cannot read ${path.join(dir, 'gone.log')}: ENOENT)`);
    assert.equal(await adapter().serviceState(), null, 'no status command: nothing to ask');
    assert.deepEqual(await adapter().serviceLogs(3), {});
    await assert.rejects(adapter({ status: 'exit 3' }).serviceState(), /status command failed \(exit 3\)/);
  });

  it('shell-quotes a hostile version so it cannot run commands', async () => {
    assert.equal(substituteVersion('echo {version}', '1.0.0'), 'echo 1.0.0');
    await adapter().pull('1.0; touch pwned');
    assert.equal(existsSync(path.join(dir, 'pwned')), false);
    assert.equal(read('pulled.txt'), '1.0; touch pwned');
  });

  it('a failed pull is ReleaseUnavailable and carries the stderr lines', async () => {
    const a = adapter({ pull: 'echo "pulling {version}"; echo "manifest for {version} not found" >&2; exit 3' });
    await assert.rejects(a.pull('9.9.9'), (err: Error) => {
      assert.equal(err.name, 'ReleaseUnavailable');
      assert.match(err.message, /exit 3/);
      assert.match(err.message, /manifest for 9\.9\.9 not found/);
      return true;
    });
  });

  it('a failed command reports its exit code and last stderr lines', async () => {
    const a = adapter({ start: 'echo "port 8080 already in use" >&2; exit 1' });
    await assert.rejects(a.start(), (err: Error) => {
      assert.equal(err.name, 'CommandFailed');
      assert.match(err.message, /port 8080 already in use/);
      return true;
    });
  });

  it('missing migrate / rehashKeys are clear config errors; missing pull / present are no-ops', async () => {
    const a = adapter({ migrate: undefined, rehashKeys: undefined, pull: undefined, version: undefined });
    await assert.rejects(
      a.migrate('1.0.0'),
      (err: Error) => err.name === 'ConfigError' && /runtime\.migrate is not configured/.test(err.message),
    );
    await assert.rejects(a.rehashKeys(), /runtime\.rehashKeys is not configured/);
    await a.pull('1.0.0');
    assert.equal(await a.isPresent('1.0.0'), true);
    assert.equal(await a.currentVersion(), null);
  });

  it('the runner logs output line by line but never the env values it was given', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const result = await execaRunner(capture)('echo "first line"; echo "second line" >&2; echo "$TOKEN" > /dev/null', {
      cwd: dir,
      env: { TOKEN: 'tok-very-secret' },
    });
    assert.equal(result.exitCode, 0);
    const log = lines.join('');
    assert.match(log, /first line/);
    assert.match(log, /second line/);
    assert.ok(!log.includes('tok-very-secret'));
  });

  it('present answers by exit code', async () => {
    const a = adapter({ present: 'test -f release-{version}' });
    writeFileSync(path.join(dir, 'release-1.2.0'), '');
    assert.equal(await a.isPresent('1.2.0'), true);
    assert.equal(await a.isPresent('1.3.0'), false);
  });
});

interface Call {
  argv: readonly string[];
  opts: RunOptions;
}

/** Records every command; `fail` decides which ones exit non-zero. */
function recorder(fail: (argv: readonly string[]) => RunResult | undefined = () => undefined) {
  const calls: Call[] = [];
  const run: CommandRunner = async (command, opts) => {
    assert.ok(Array.isArray(command), 'compose commands are argv, never shell strings');
    const argv = command as readonly string[];
    calls.push({ argv, opts });
    return fail(argv) ?? { exitCode: 0, stdout: '', stderr: '' };
  };
  return { calls, run };
}

const SECRETS = { password: 'hunter2-registry-pw', migrationUrl: 'postgres://owner:0wnerPw@db:5432/ledger' };

describe('compose adapter (argv only — no Docker engine here)', () => {
  let dir: string;
  let envFile: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-compose-'));
    envFile = path.join(dir, '.env');
    writeFileSync(
      envFile,
      [
        'APP_VERSION=1.2.0',
        'REGISTRY_USER=deploy-bot',
        `REGISTRY_PASSWORD=${SECRETS.password}`,
        'DATABASE_URL=postgres://app:appPw@db:5432/ledger',
        `DATABASE_URL_MIGRATE=${SECRETS.migrationUrl}`,
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const bundled = () =>
    composeRuntimeSchema.parse({
      kind: 'compose',
      cwd: dir,
      files: ['docker-compose.yml', 'docker-compose.prod.yml'],
      project: 'ledger',
      databaseService: 'db',
      registry: { host: 'ghcr.io', usernameVar: 'REGISTRY_USER', passwordVar: 'REGISTRY_PASSWORD' },
      rehashCommand: ['rehash-keys'],
    });
  const external = () => composeRuntimeSchema.parse({ kind: 'compose', cwd: dir });

  function assertNoSecretOnArgv(calls: Call[]) {
    for (const { argv } of calls) {
      const line = argv.join(' ');
      assert.ok(!line.includes(SECRETS.password), `password on argv: ${line}`);
      assert.ok(!line.includes('0wnerPw') && !line.includes('appPw'), `database password on argv: ${line}`);
    }
  }

  it('upgrade, bundled database + registry: login, pull, stop worker, migrate, up --wait', async () => {
    const { calls, run } = recorder();
    const a = composeAdapter(bundled(), run, logger, { imageVar: 'APP_VERSION', envFile });
    await a.pull('1.3.0');
    await a.stop('worker');
    await a.migrate('1.3.0', SECRETS.migrationUrl);
    await a.start();

    const dc = ['docker', 'compose', '--env-file', envFile, '-f', 'docker-compose.yml', '-f', 'docker-compose.prod.yml', '-p', 'ledger'];
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        ['docker', 'login', 'ghcr.io', '-u', 'deploy-bot', '--password-stdin'],
        [...dc, 'pull'],
        [...dc, 'stop', 'worker'],
        [...dc, 'run', '--rm', '-e', 'DATABASE_URL', 'api', 'migrate'],
        [...dc, 'up', '-d', '--wait', '--wait-timeout', '120'],
      ],
    );
    assert.equal(calls[0]!.opts.input, SECRETS.password, 'password goes on stdin');
    assert.deepEqual(calls[1]!.opts.env, { APP_VERSION: '1.3.0' }, 'pull selects the new tag through the env');
    assert.deepEqual(calls[3]!.opts.env, { APP_VERSION: '1.3.0', DATABASE_URL: SECRETS.migrationUrl });
    assert.ok(calls.every((c) => c.opts.cwd === dir));
    assertNoSecretOnArgv(calls);
  });

  it('upgrade, external database through the activities: migration URL from the env file', async () => {
    const { calls, run } = recorder();
    const config = parseConfig(
      {
        deployments: {
          ledger: {
            runtime: { kind: 'compose' },
            envFile: '.env',
            health: { ready: 'http://127.0.0.1:1/ready' },
            backup: { dir: 'backups' },
          },
        },
      },
      dir,
    );
    const acts = runtimeActivities(activityDeps({ config, logger }), run);
    assert.deepEqual(await acts.pullRelease({ deployment: 'ledger', version: '1.3.0' }), { pulled: true, usedPresent: false });
    await acts.stopServices({ deployment: 'ledger', scope: 'worker' });
    await acts.runMigrations({ deployment: 'ledger', version: '1.3.0' });
    await acts.startServices({ deployment: 'ledger' });

    const dc = ['docker', 'compose', '--env-file', envFile, '-f', 'docker-compose.yml'];
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        [...dc, 'pull'],
        [...dc, 'stop', 'worker'],
        [...dc, 'run', '--rm', '-e', 'DATABASE_URL', 'api', 'migrate'],
        [...dc, 'up', '-d', '--wait', '--wait-timeout', '120'],
      ],
    );
    assert.equal(calls[2]!.opts.env?.DATABASE_URL, SECRETS.migrationUrl);
    assertNoSecretOnArgv(calls);
    assert.equal(await acts.detectRunningVersion({ deployment: 'ledger' }), '1.2.0');
  });

  it('migrate without a migration URL passes no -e', async () => {
    const { calls, run } = recorder();
    await composeAdapter(external(), run, logger, { imageVar: 'APP_VERSION', envFile }).migrate('1.3.0');
    assert.deepEqual(calls[0]!.argv.slice(-5), ['docker-compose.yml', 'run', '--rm', 'api', 'migrate']);
    assert.deepEqual(calls[0]!.opts.env, { APP_VERSION: '1.3.0' });
  });

  it('restore stops api and worker but never the bundled database', async () => {
    const { calls, run } = recorder();
    await composeAdapter(bundled(), run, logger, { imageVar: 'APP_VERSION', envFile }).stop('all');
    assert.deepEqual(calls[0]!.argv.slice(-3), ['stop', 'api', 'worker']);
    assert.ok(!calls[0]!.argv.includes('db'));

    const ext = recorder();
    await composeAdapter(external(), ext.run, logger, { imageVar: 'APP_VERSION', envFile }).stop('all');
    assert.deepEqual(ext.calls[0]!.argv.slice(-2), ['docker-compose.yml', 'stop'], 'external DB: stop everything');
  });

  it('support bundle: ps --all, then the last lines of each service (the bundled database too)', async () => {
    const { calls, run } = recorder((argv) =>
      argv.at(-1) === 'db' ? { exitCode: 1, stdout: '', stderr: 'no such service: db' } : undefined,
    );
    const a = composeAdapter(bundled(), run, logger, { imageVar: 'APP_VERSION', envFile });
    await a.serviceState();
    const logs = await a.serviceLogs(1000);
    assert.deepEqual(
      calls.map((c) => c.argv.slice(10)),
      [['ps', '--all'], ...['api', 'worker', 'db'].map((s) => ['logs', '--no-color', '--timestamps', '--tail', '1000', s])],
    );
    assert.deepEqual(Object.keys(logs), ['api', 'worker', 'db']);
    assert.equal(logs.db, '(docker compose logs failed, exit 1: no such service: db)');
  });

  it('rehash runs the rehash command in a one-off api container', async () => {
    const { calls, run } = recorder();
    await composeAdapter(bundled(), run, logger, { imageVar: 'APP_VERSION', envFile }).rehashKeys();
    assert.deepEqual(calls[0]!.argv.slice(-4), ['run', '--rm', 'api', 'rehash-keys']);
    await assert.rejects(composeAdapter(external(), run, logger, { envFile }).rehashKeys(), /rehashCommand is not configured/);
  });

  it('a failed pull is ReleaseUnavailable; the activity falls back to a present image only when allowed', async () => {
    const pullFails = (argv: readonly string[]) =>
      argv.at(-1) === 'pull' ? { exitCode: 1, stdout: '', stderr: 'Error: manifest for ghcr.io/acme/ledger:0.9.0 not found' } : undefined;
    const config = parseConfig(
      {
        deployments: {
          ledger: { runtime: { kind: 'compose' }, envFile: '.env', health: { ready: 'http://127.0.0.1:1/ready' }, backup: { dir: 'b' } },
        },
      },
      dir,
    );
    const present = recorder(
      (argv) =>
        pullFails(argv) ?? (argv.includes('--images') ? { exitCode: 0, stdout: 'ghcr.io/acme/ledger:0.9.0\n', stderr: '' } : undefined),
    );
    const withCache = await runtimeActivities(activityDeps({ config, logger }), present.run).pullRelease({
      deployment: 'ledger',
      version: '0.9.0',
      allowPresentFallback: true,
    });
    assert.equal(withCache.usedPresent, true);
    assert.equal(withCache.pulled, false);
    assert.match(withCache.warning ?? '', /manifest for .* not found/);
    assert.deepEqual(present.calls.at(-1)!.argv, ['docker', 'image', 'inspect', 'ghcr.io/acme/ledger:0.9.0']);
    assert.deepEqual(present.calls.at(-2)!.opts.env, { APP_VERSION: '0.9.0' }, 'images listed for the target version');

    const absent = recorder(
      (argv) => pullFails(argv) ?? (argv.includes('inspect') ? { exitCode: 1, stdout: '', stderr: 'No such image' } : undefined),
    );
    await assert.rejects(
      runtimeActivities(activityDeps({ config, logger }), absent.run).pullRelease({
        deployment: 'ledger',
        version: '0.9.0',
        allowPresentFallback: true,
      }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'ReleaseUnavailable');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /not found/);
        return true;
      },
    );
    await assert.rejects(
      runtimeActivities(activityDeps({ config, logger }), present.run).pullRelease({ deployment: 'ledger', version: '0.9.0' }),
      (err: unknown) => err instanceof ApplicationFailure && err.type === 'ReleaseUnavailable',
    );
  });

  it('refuses a version that is not tag-shaped before running anything', async () => {
    const { calls, run } = recorder();
    const config = parseConfig(
      {
        deployments: {
          ledger: { runtime: { kind: 'compose' }, envFile: '.env', health: { ready: 'http://127.0.0.1:1/r' }, backup: { dir: 'b' } },
        },
      },
      dir,
    );
    await assert.rejects(
      runtimeActivities(activityDeps({ config, logger }), run).pullRelease({ deployment: 'ledger', version: '1.0 && rm -rf /' }),
      {
        name: 'BadInput',
      },
    );
    assert.equal(calls.length, 0);
  });
});

describe('detectRunningVersion', () => {
  it('env file, then version file, then the runtime', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-ver-'));
    try {
      const config = parseConfig(
        {
          deployments: {
            svc: {
              runtime: { kind: 'commands', start: 'true', stop: 'true', version: 'echo 0.7.0' },
              envFile: '.env',
              versionFile: 'VERSION',
              health: { ready: 'http://127.0.0.1:1/r' },
              backup: { dir: 'b' },
            },
          },
        },
        dir,
      );
      const acts = runtimeActivities(activityDeps({ config, logger }));
      writeFileSync(path.join(dir, '.env'), 'OTHER=1\n');
      assert.equal(await acts.detectRunningVersion({ deployment: 'svc' }), '0.7.0', 'runtime answer');
      writeFileSync(path.join(dir, 'VERSION'), '0.8.0\n');
      assert.equal(await acts.detectRunningVersion({ deployment: 'svc' }), '0.8.0', 'version file');
      writeFileSync(path.join(dir, '.env'), 'APP_VERSION=0.9.0\n');
      assert.equal(await acts.detectRunningVersion({ deployment: 'svc' }), '0.9.0', 'env file wins');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
