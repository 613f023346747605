// Upgrade end to end: real Temporal, real PostgreSQL, the real ledger service moving
// through its releases, a worker process killed mid-upgrade, the CLI as an operator runs it.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { must } from '../../examples/ledger-deployment';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { startE2E, type E2E } from '../harness/e2e';
import {
  assertDataKept,
  dataFingerprint,
  fileVersions,
  migrationLog,
  patchConfig,
  readinessHold,
  serviceState,
  waitForStep,
} from '../harness/upgrade-helpers';

let e2e: E2E;
let hold: Awaited<ReturnType<typeof readinessHold>>;
let holdRestart: string;
const READY_TIMEOUT_S = 8;

const dumps = () =>
  (existsSync(e2e.deployment.backupDir) ? readdirSync(e2e.deployment.backupDir) : []).filter((f) => f.endsWith('.dump')).sort();
const fingerprint = () => dataFingerprint(e2e.deployment.databaseUrl);
const everything = () => tableChecksums(e2e.deployment.databaseUrl);

before(async () => {
  // autoRollback: the failing release is rolled back without a person.
  e2e = await startE2E('upg', { autoRollback: true });
  hold = await readinessHold();
  hold.target = e2e.deployment.baseUrl;
  holdRestart = path.join(e2e.dir, 'hold-restart');
  patchConfig(e2e, { readyUrl: hold.url, readyTimeoutSeconds: READY_TIMEOUT_S, holdFile: holdRestart });
  await e2e.startService(20);
  await must(e2e.deployment.ctl('create-key', '--name', 'ops'), 'create-key');
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
  await hold?.close();
});

describe('upgrade', () => {
  test('bad input exits 2 and touches nothing: not semver, shell text, same version, unknown release, missing backup', async () => {
    const before = await everything();
    const dumpsBefore = dumps();
    for (const args of [
      ['upgrade', '1.2'],
      ['upgrade', 'latest; rm -rf /'],
      ['rollback', '--version', '1.2'],
    ]) {
      const r = await e2e.cli(...args);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /is not a release version/);
      assert.doesNotMatch(r.stdout, /started/, 'refused before any workflow starts');
    }

    const same = await e2e.cli('upgrade', '1.0.0');
    assert.equal(same.exitCode, 2, same.stdout + same.stderr);
    assert.match(same.stdout + same.stderr, /already runs 1\.0\.0/);

    const unknown = await e2e.cli('upgrade', '9.9.9');
    assert.equal(unknown.exitCode, 2, unknown.stdout + unknown.stderr);
    assert.match(unknown.stdout + unknown.stderr, /unknown release 9\.9\.9/);

    const missing = await e2e.cli('rollback', '--backup', 'upg-2001-01-01-000000.dump', '--yes');
    assert.equal(missing.exitCode, 2, missing.stdout + missing.stderr);
    assert.match(missing.stdout + missing.stderr, /not found/);

    assert.deepEqual(await everything(), before, 'no row changed');
    assert.deepEqual(dumps(), dumpsBefore, 'no backup taken');
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
  });

  test('an env file that fails preflight refuses the upgrade before anything is pulled, backed up or stopped; --ask-on-failed-preflight asks at a gate', async () => {
    const before = await everything();
    const dumpsBefore = dumps();
    const envFile = e2e.deployment.envFile;
    const original = readFileSync(envFile, 'utf8');
    writeFileSync(envFile, original.replace(/^PORT=.*$/m, ''));
    try {
      const r = await e2e.cli('upgrade', '1.1.0');
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(r.stdout + r.stderr, /preflight failed before the upgrade changed anything: .*PORT/);
      assert.match(r.stdout + r.stderr, /--ask-on-failed-preflight/);

      const asked = await e2e.cli('upgrade', '1.1.0', '--ask-on-failed-preflight');
      assert.equal(asked.exitCode, 4, `waits at the gate: ${asked.stdout}${asked.stderr}`);
      assert.match(asked.stdout, /proceed-despite-preflight/);
      const rejected = await e2e.cli('reject', e2e.workflowId, '--gate', 'proceed-despite-preflight', '--reason', 'fix the env file first');
      assert.equal(rejected.exitCode, 0, rejected.stdout + rejected.stderr);
      const status = await e2e.cli('--json', 'status', e2e.workflowId);
      const shown = JSON.parse(status.stdout) as { status: string; error: string };
      assert.equal(shown.status, 'REJECTED');
      assert.match(shown.error, /was not started — preflight failed .*PORT.*Nothing was changed/);
    } finally {
      writeFileSync(envFile, original);
    }
    assert.deepEqual(await everything(), before, 'no row changed');
    assert.deepEqual(dumps(), dumpsBefore, 'no backup taken');
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true }, 'never stopped');
  });

  test('1.0.0 → 1.1.0: pre-upgrade backup records the version; data kept; new version reported', async () => {
    const before = await fingerprint();
    const r = await e2e.cli('--json', 'upgrade', '1.1.0');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const { result } = JSON.parse(r.stdout) as { result: { outcome: string; from: string; to: string; backup: string } };
    assert.deepEqual({ ...result, backup: undefined }, { outcome: 'upgraded', from: '1.0.0', to: '1.1.0', backup: undefined });

    const manifest = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${result.backup}.manifest.json`), 'utf8'));
    assert.equal(manifest.preUpgradeVersion, '1.0.0');
    assert.equal(manifest.appVersion, '1.0.0');
    assert.equal(readFileSync(path.join(e2e.deployment.backupDir, '.pre-upgrade-version'), 'utf8').trim(), '1.0.0');

    assertDataKept(before, await fingerprint());
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.1.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.1.0', file: '1.1.0' });
    assert.deepEqual((await migrationLog(e2e.deployment.databaseUrl)).at(-1), { target: '1.1.0', applied: ['0004_audit_events'] });
  });

  test('1.1.0 → 1.2.0 --skip-backup, worker killed after the migration and during the readiness wait: finishes, migrations ran once', async () => {
    const before = await fingerprint();
    const dumpsBefore = dumps();
    const runsBefore = (await migrationLog(e2e.deployment.databaseUrl)).length;
    // 1.2.0 refuses to start while this is set: the upgrade must comment it out.
    appendFileSync(e2e.deployment.envFile, '# legacy auth (tokens of the old mobile app)\nLEDGER_LEGACY_AUTH=on\nAFTER_LEGACY=kept\n');
    const envBefore = readFileSync(e2e.deployment.envFile, 'utf8');

    writeFileSync(holdRestart, '');
    hold.held = true;
    const started = await e2e.cli('upgrade', '1.2.0', '--skip-backup', '--detach');
    assert.equal(started.exitCode, 0, started.stderr);
    assert.match(started.stderr, /--skip-backup: no pre-upgrade backup will be taken\. This is discouraged in production/);

    // Kill 1: migrations done, version written, the restart held in its `stop`.
    await waitForStep(e2e, 'Restart services', 'running');
    await new Promise((r) => setTimeout(r, 300));
    await e2e.worker!.kill();
    rmSync(holdRestart);
    await e2e.startWorker();

    // Kill 2: services restarted, readiness held at 503.
    await waitForStep(e2e, 'Wait for readiness', 'running');
    await new Promise((r) => setTimeout(r, 300));
    await e2e.worker!.kill();
    await e2e.startWorker();
    hold.held = false;

    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);

    const runs = await migrationLog(e2e.deployment.databaseUrl);
    assert.equal(runs.length, runsBefore + 1, 'exactly one migrate run applied something');
    assert.deepEqual(runs.at(-1), { target: '1.2.0', applied: ['0005_entries_payload_bytes'] });
    assert.deepEqual(dumps(), dumpsBefore, '--skip-backup takes no backup');
    assertDataKept(before, await fingerprint());
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.2.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.2.0', file: '1.2.0' });

    // Only two lines changed: the version, and the deprecated variable under a dated note.
    const envAfter = readFileSync(e2e.deployment.envFile, 'utf8');
    const today = new Date().toISOString().slice(0, 10);
    const expected = envBefore
      .replace('LEDGER_VERSION=1.1.0', 'LEDGER_VERSION=1.2.0')
      .replace(
        'LEDGER_LEGACY_AUTH=on',
        `# removed in 1.2.0: commented out by day2 upgrade 1.1.0 → 1.2.0 on ${today}\n# LEDGER_LEGACY_AUTH=on`,
      );
    assert.equal(envAfter, expected);
  });

  test('1.2.0 → 1.3.0 never gets ready: rolled back automatically, data and release as before', async () => {
    const before = await everything();
    const r = await e2e.cli('--json', 'upgrade', '1.3.0');
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as {
      status: string;
      error: string;
      result: { outcome: string; reason: string; backup: string; rollback: { version: string } };
    };
    assert.equal(out.status, 'ROLLED_BACK');
    assert.equal(out.result.outcome, 'rolled-back');
    assert.match(out.result.reason, new RegExp(`Wait for readiness failed: upg not ready after ${READY_TIMEOUT_S} s`));
    assert.match(out.error, /failed and was rolled back to 1\.2\.0/);
    assert.equal(out.result.rollback.version, '1.2.0');

    // Later views say what the starting command said, not Temporal's COMPLETED.
    const status = await e2e.cli('status', e2e.workflowId);
    assert.match(status.stdout, / — ROLLED_BACK in /);
    assert.ok(status.stdout.includes(`error: ${out.error}`), `status repeats the verdict: ${status.stdout}`);
    const list = JSON.parse((await e2e.cli('--json', 'list', '--deployment', 'upg', '--limit', '1')).stdout) as Array<{ status: string }>;
    assert.equal(list[0]?.status, 'ROLLED_BACK');

    const manifest = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${out.result.backup}.manifest.json`), 'utf8'));
    assert.equal(manifest.preUpgradeVersion, '1.2.0');
    assert.equal(readFileSync(path.join(e2e.deployment.backupDir, '.pre-upgrade-version'), 'utf8').trim(), '1.2.0');

    assert.deepEqual(await everything(), before, 'every table as before the upgrade (feature_flags gone)');
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.2.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.2.0', file: '1.2.0' });
    const scan = await e2e.deployment.ctl('scan');
    assert.equal(scan.exitCode, 0, scan.stdout);
  });
});
