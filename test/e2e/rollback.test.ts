// Rollback end to end: after a good upgrade, `day2 rollback` says what will be lost, waits
// for approval, and brings back the previous release with the backup's data.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { must } from '../../examples/ledger-deployment';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { startE2E, type E2E } from '../harness/e2e';
import { fileVersions, serviceState, setReadyTimeout } from '../harness/upgrade-helpers';

let e2e: E2E;
const everything = () => tableChecksums(e2e.deployment.databaseUrl);

async function upgradeTo(version: string): Promise<string> {
  const r = await e2e.cli('--json', 'upgrade', version);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  return (JSON.parse(r.stdout) as { result: { backup: string } }).result.backup;
}

before(async () => {
  e2e = await startE2E('rbk'); // upgrade.autoRollback: false — a failed upgrade asks first
  setReadyTimeout(e2e, 6);
  await e2e.startService(15);
  await must(e2e.deployment.ctl('create-key', '--name', 'ops'), 'create-key');
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('rollback', () => {
  test("after a good upgrade: states what is lost, waits for approval, returns the previous release and the backup's data", async () => {
    const atBackup = await everything(); // nothing writes between this and the pre-upgrade backup
    const backup = await upgradeTo('1.1.0');
    await must(e2e.deployment.ctl('seed', '--entries', '5'), 'seed after the upgrade'); // what the rollback loses
    assert.notDeepEqual(await everything(), atBackup);

    const started = await e2e.cli('rollback');
    assert.equal(started.exitCode, 4, `paused at the confirmation gate: ${started.stdout}${started.stderr}`);
    assert.match(started.stdout, new RegExp(`Roll rbk back from 1\\.1\\.0 to 1\\.0\\.0 by restoring ${backup.replace(/\./g, '\\.')}`));
    assert.match(started.stdout, /Everything written since the backup — the last \d+ s — is lost/);
    assert.match(started.stdout, /day2 approve day2-rbk --gate confirm-rollback/);
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.1.0', ready: true }, 'nothing changed while waiting');

    const approved = await e2e.cli('approve', e2e.workflowId, '--gate', 'confirm-rollback', '--reason', 'test rollback');
    assert.equal(approved.exitCode, 0, approved.stderr);
    const done = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);
    const { result } = JSON.parse(done.stdout) as {
      result: { outcome: string; from: string; version: string; backup: string; keptAs: string };
    };
    assert.deepEqual(
      { outcome: result.outcome, from: result.from, version: result.version, backup: result.backup },
      { outcome: 'rolled-back', from: '1.1.0', version: '1.0.0', backup },
    );
    assert.match(result.keptAs, /^rbk_pre_restore_/);

    assert.deepEqual(await everything(), atBackup, "the backup's data, every table");
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    const scan = await e2e.deployment.ctl('scan');
    assert.equal(scan.exitCode, 0, scan.stdout);
  });

  test('a rejected rollback changes nothing (exit 5)', async () => {
    await upgradeTo('1.1.0');
    const before = await everything();
    assert.equal((await e2e.cli('rollback')).exitCode, 4);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'fix forward instead');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 5, done.stdout + done.stderr);
    assert.deepEqual(await everything(), before);
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.1.0', ready: true });
  });

  test('registry down: --yes rollback falls back to the release already present, with a warning', async () => {
    const registryDown = path.join(e2e.deployment.dir, 'run', 'registry-down');
    mkdirSync(path.dirname(registryDown), { recursive: true });
    writeFileSync(registryDown, '');
    try {
      const r = await e2e.cli('rollback', '--yes', '--version', '1.0.0');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /warning: pull of 1\.0\.0 failed .*registry unreachable.*using the copy already present/);
    } finally {
      rmSync(registryDown, { force: true });
    }
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
  });

  test('a failed upgrade without autoRollback asks at rollback-failed-upgrade; approving rolls back', async () => {
    const before = await everything();
    const r = await e2e.cli('upgrade', '1.3.0');
    assert.equal(r.exitCode, 4, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /waiting at gate 'rollback-failed-upgrade': The upgrade of rbk to 1\.3\.0 failed \(Wait for readiness failed: rbk not ready after 6 s/,
    );
    assert.match(
      r.stdout,
      /Roll back to 1\.0\.0 by restoring rbk-[\d-]+\.dump \(taken \d+ s ago\)\? Everything written since then is lost/,
    );

    const approved = await e2e.cli('approve', e2e.workflowId, '--gate', 'rollback-failed-upgrade', '--reason', 'release is broken');
    assert.equal(approved.exitCode, 0, approved.stderr);
    const done = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    const { result } = JSON.parse(done.stdout) as { result: { outcome: string; from: string; to: string } };
    assert.deepEqual({ outcome: result.outcome, from: result.from, to: result.to }, { outcome: 'rolled-back', from: '1.0.0', to: '1.3.0' });

    assert.deepEqual(await everything(), before);
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
  });
});
