// Releases and restores that know each other: a backup taken under release 1.0.0, restored
// while 1.1.0 runs. Without a choice the restore is refused naming both releases (nothing
// changed); the gate says which release will run; `--release running` keeps 1.1.0 and runs
// its migrations forward on the restored data before it starts; `--release backup` switches
// to 1.0.0 with its data, as a rollback does. Real ledger releases and migrations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startE2E, type E2E } from '../harness/e2e';
import { dataFingerprint, fileVersions, migrationLog, serviceState } from '../harness/upgrade-helpers';

let e2e: E2E;
let file = '';
const json = <T>(stdout: string) => JSON.parse(stdout) as { result: T; error?: string };

describe('a restore of a backup taken under another release', { timeout: 600_000 }, () => {
  before(async () => {
    e2e = await startE2E('rr');
    await e2e.startService(10);
    await e2e.startWorker();
    const b = await e2e.cli('--json', 'backup');
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    file = json<{ file: string }>(b.stdout).result.file;
    const u = await e2e.cli('upgrade', '1.1.0', '--skip-backup', '--quiet');
    assert.equal(u.exitCode, 0, u.stdout + u.stderr);
  });
  after(async () => e2e?.teardown());

  it('is refused without --release, naming both releases; nothing changed', async () => {
    const before = await dataFingerprint(e2e.deployment.databaseUrl);
    const r = await e2e.cli('restore', file, '--yes');
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /was taken under release 1\.0\.0, and rr runs 1\.1\.0/);
    assert.match(r.stdout + r.stderr, /--release backup .* --release running/);
    assert.deepEqual(await dataFingerprint(e2e.deployment.databaseUrl), before);
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.1.0', ready: true });
  });

  it('the gate names both releases and what will run', async () => {
    const r = await e2e.cli('restore', file, '--release', 'running');
    assert.equal(r.exitCode, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /taken under release 1\.0\.0 \(1\.1\.0 runs now\): 1\.1\.0 stays, and its migrations run forward/);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--gate', 'confirm-restore', '--reason', 'test');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
  });

  it('--release running: the data of the backup, 1.1.0 migrated forward on it before it starts', async () => {
    const runsBefore = (await migrationLog(e2e.deployment.databaseUrl)).length;
    const r = await e2e.cli('--json', 'restore', file, '--yes', '--release', 'running');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const log = await migrationLog(e2e.deployment.databaseUrl);
    // The restored data's log is the backup's (1.0.0's runs) plus the forward migration.
    assert.ok(log.length <= runsBefore, 'the log is the restored one');
    assert.deepEqual(log.at(-1), { target: '1.1.0', applied: ['0004_audit_events'] });
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.1.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.1.0', file: '1.1.0' });
  });

  it('--release backup: switches to 1.0.0 with its data, as a rollback does', async () => {
    const r = await e2e.cli('--json', 'restore', file, '--yes', '--release', 'backup');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.notEqual((await migrationLog(e2e.deployment.databaseUrl)).at(-1)?.target, '1.1.0', 'no 1.1.0 migration in the data');
  });

  it('a backup of the running release restores as before (no --release needed)', async () => {
    const b = await e2e.cli('--json', 'backup');
    const same = json<{ file: string }>(b.stdout).result.file;
    const r = await e2e.cli('restore', same, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });
});
