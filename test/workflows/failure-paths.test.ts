// Every way an upgrade can fail, and what it decides: before it changes anything it simply
// fails (nothing stopped, no rollback); from the first stop on, every failing step leads to
// the rollback decision — automatic (upgrade.autoRollback, --yes), at the
// rollback-failed-upgrade gate (approved: rolled back; rejected: left as it is), or none
// without a pre-upgrade backup — and a rollback that fails too is a RollbackFailed naming
// both. Then the rotations' own rollbacks. Real workflows, stand-in activities.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UpgradeResult } from '../../src/domain/release-types';
import {
  decide,
  deepest,
  failedCheck,
  failureOf,
  progressOf,
  StandIns,
  startWorkflowWorker,
  waitingAt,
  type ActivityName,
  type WorkflowWorker,
  BACKUP_CALLS,
  RESTART_CALLS,
  RESTORE_CALLS,
} from '../harness/stand-ins';

let wf: WorkflowWorker;
before(async () => {
  wf = await startWorkflowWorker('failures');
});
after(() => wf?.stop());

const BEFORE_CHANGE = ['detectRunningVersion', 'readUpgradePolicy', 'runDeploymentChecks', 'pullRelease'];
const BACKUP = BACKUP_CALLS;
const RESTORE = RESTORE_CALLS;
const ROLLBACK = ['verifyBackup', 'detectRunningVersion', 'pullRelease', 'writeReleaseVersion', ...RESTORE, 'readServiceVersion'];
const UPGRADE = [
  'stopServices',
  'runMigrations',
  'writeReleaseVersion',
  'commentOutDeprecatedVars',
  'stopServices',
  'startServices',
  'waitForReady',
  'runDeploymentChecks',
  'readServiceVersion',
];

/** Each changing step, how to make it fail, and the reason the upgrade gives. */
const FAILING_STEPS: Array<{ step: string; upTo: number; fail: (s: StandIns) => void; reason: RegExp }> = [
  {
    step: 'Stop worker',
    upTo: 1,
    fail: (s) => s.fail('stopServices', 'compose stop failed', { nth: 1 }),
    reason: /^Stop worker failed: compose stop failed/,
  },
  {
    step: 'Run migrations',
    upTo: 2,
    fail: (s) => s.fail('runMigrations', 'migration 42 failed'),
    reason: /^Run migrations failed: migration 42 failed/,
  },
  {
    step: 'Write release version',
    upTo: 3,
    fail: (s) => s.fail('writeReleaseVersion', 'env file is read-only', { nth: 1 }),
    reason: /^Write release version failed: env file is read-only/,
  },
  {
    step: 'Comment out deprecated variables',
    upTo: 4,
    fail: (s) => s.fail('commentOutDeprecatedVars', 'cannot edit'),
    reason: /^Comment out deprecated variables failed: cannot edit/,
  },
  {
    step: 'Restart services',
    upTo: 6,
    fail: (s) => s.fail('startServices', 'port in use', { nth: 1 }),
    reason: /^Restart services failed: port in use/,
  },
  {
    step: 'Wait for readiness',
    upTo: 7,
    fail: (s) => s.fail('waitForReady', 'not ready after 5 s: 503', { nth: 1 }),
    reason: /^Wait for readiness failed: not ready after 5 s: 503/,
  },
  {
    step: 'Run preflight checks',
    upTo: 8,
    fail: (s) =>
      s.answer('runDeploymentChecks', (_: unknown, nth: number) => (nth === 2 ? [failedCheck('migrations', 'pending: 43')] : [])),
    reason: /^Run preflight checks failed: preflight failed: migrations: pending: 43/,
  },
  {
    step: 'Verify version',
    upTo: 9,
    fail: (s) => s.answer('readServiceVersion', (_: unknown, nth: number) => (nth === 1 ? '1.0.0' : null)),
    reason: /^Verify version failed: the version endpoint reports 1\.0\.0, expected 1\.1\.0/,
  },
];

const standIns = (policy: { autoRollback?: boolean } = {}) =>
  new StandIns().answer('readUpgradePolicy', { autoRollback: false, readyTimeoutSeconds: 5, deprecatedVars: ['LEGACY_AUTH'], ...policy });

async function upgrade(s: StandIns, input: Record<string, unknown> = {}) {
  return wf.start<UpgradeResult>('upgrade', { deployment: 'wf', version: '1.1.0', ...input }, s);
}

describe('an upgrade failing at each changing step', { concurrency: true }, () => {
  for (const f of FAILING_STEPS) {
    test(`${f.step}, upgrade.autoRollback: rolled back at once to the pre-upgrade backup`, async () => {
      const s = standIns({ autoRollback: true });
      f.fail(s);
      const handle = await upgrade(s);
      const r = await handle.result();
      assert.equal(r.outcome, 'rolled-back');
      assert.match(r.reason ?? '', f.reason);
      assert.equal(r.rollback?.version, '1.0.0');
      assert.deepEqual(s.names(), [...BEFORE_CHANGE, ...BACKUP, ...UPGRADE.slice(0, f.upTo), ...ROLLBACK]);
      const p = await progressOf(handle);
      assert.equal(p.steps.find((st) => st.name === f.step)?.status, 'failed');
      assert.match(p.steps.find((st) => st.name === 'Decide rollback')?.detail ?? '', /upgrade\.autoRollback: true/);
      assert.match(p.outcome ?? '', /^upgrade to 1\.1\.0 failed and was rolled back to 1\.0\.0: /);
    });

    test(`${f.step}, the gate rejected: left as the failed upgrade left it, with the command to undo it`, async () => {
      const s = standIns();
      f.fail(s);
      const handle = await upgrade(s);
      await waitingAt(handle, 'rollback-failed-upgrade');
      await decide(handle, 'rollback-failed-upgrade', false);
      const r = await handle.result();
      assert.equal(r.outcome, 'failed');
      assert.match(r.reason ?? '', f.reason);
      assert.match(r.reason ?? '', /Rollback declined by test \(not now\): wf is left as the failed upgrade left it$/);
      assert.deepEqual(s.names(), [...BEFORE_CHANGE, ...BACKUP, ...UPGRADE.slice(0, f.upTo)], 'no rollback');
    });
  }

  test('the gate approved: rolled back', async () => {
    const s = standIns();
    s.fail('runMigrations', 'migration 42 failed');
    const handle = await upgrade(s);
    await waitingAt(handle, 'rollback-failed-upgrade');
    await decide(handle, 'rollback-failed-upgrade', true);
    const r = await handle.result();
    assert.equal(r.outcome, 'rolled-back');
    assert.deepEqual(s.names().slice(-ROLLBACK.length), ROLLBACK);
  });

  test('--yes: rolled back without asking', async () => {
    const s = standIns();
    s.fail('waitForReady', 'not ready', { nth: 1 });
    const handle = await upgrade(s, { yes: true });
    const r = await handle.result();
    assert.equal(r.outcome, 'rolled-back');
    assert.match(
      (await progressOf(handle)).steps.find((st) => st.name === 'Decide rollback')?.detail ?? '',
      /--yes: rolling back without asking/,
    );
  });

  test('--skip-backup: no rollback by itself, and it says what rolling back would cost', async () => {
    const s = standIns({ autoRollback: true });
    s.fail('runMigrations', 'migration 42 failed');
    const r = await (await upgrade(s, { skipBackup: true })).result();
    assert.equal(r.outcome, 'failed');
    assert.match(r.reason ?? '', /No pre-upgrade backup was taken \(--skip-backup\), so day2 does not roll back by itself/);
    assert.deepEqual(s.names(), [...BEFORE_CHANGE, 'stopServices', 'runMigrations']);
  });

  test('the rollback fails too: RollbackFailed naming both failures; the restore child undid its version write', async () => {
    const s = standIns({ autoRollback: true });
    s.fail('runMigrations', 'migration 42 failed');
    s.fail('stageRestore', 'disk full');
    const handle = await upgrade(s);
    const err = await failureOf(handle);
    assert.match(
      deepest(err),
      /^Run migrations failed: migration 42 failed.*; the rollback to 1\.0\.0 from wf-\S+\.dump failed too: .*disk full/,
    );
    // Failed before the swap: the live database is untouched, so the rollback put the
    // upgraded version back and made sure the service runs (its saga).
    assert.deepEqual(s.names().slice(-6), [
      'writeReleaseVersion',
      'verifyBackup',
      'stageRestore',
      'dropDatabaseIfExists',
      'writeReleaseVersion',
      'startServices',
    ]);
    assert.equal((s.calls.filter((c) => c.name === 'writeReleaseVersion').at(-1)!.input as { version: string }).version, '1.0.0');
    assert.equal((await progressOf(handle)).outcome, 'upgrade to 1.1.0 failed, and so did the rollback');
  });
});

describe('an upgrade failing before it changes anything: no stop, no rollback', { concurrency: true }, () => {
  const cases: Array<[string, (s: StandIns) => void, RegExp, string[]]> = [
    ['not a release version', () => {}, /"next" is not a release version/, []],
    [
      'an unknown running version',
      (s) => s.answer('detectRunningVersion', null),
      /cannot tell which release wf runs/,
      ['detectRunningVersion'],
    ],
    [
      'a downgrade',
      (s) => s.answer('detectRunningVersion', '1.2.0'),
      /1\.1\.0 is older than the running 1\.2\.0: that is a rollback/,
      ['detectRunningVersion'],
    ],
    [
      'a failing preflight',
      (s) => s.answer('runDeploymentChecks', [failedCheck('disk', 'full')]),
      /preflight failed before the upgrade changed anything: disk: full/,
      BEFORE_CHANGE.slice(0, 3),
    ],
    ['a pull that fails', (s) => s.fail('pullRelease', 'registry down'), /registry down/, BEFORE_CHANGE],
    [
      'a pre-upgrade backup that fails',
      (s) => s.fail('createBackup', 'pg_dump: connection refused'),
      /pg_dump: connection refused/,
      [...BEFORE_CHANGE, 'detectRunningVersion', 'createBackup'],
    ],
  ];
  for (const [what, setUp, message, calls] of cases) {
    test(what, async () => {
      const s = standIns({ autoRollback: true });
      setUp(s);
      const handle = await upgrade(s, what === 'not a release version' ? { version: 'next' } : {});
      const err = await failureOf(handle);
      assert.match(deepest(err), message);
      assert.deepEqual(s.names(), calls);
      assert.ok(!(await progressOf(handle)).steps.some((st) => st.name === 'Decide rollback'));
    });
  }
});

describe('API key secret rotation: the rollback', { concurrency: true }, () => {
  const RESTART = RESTART_CALLS;
  const ROLLED_BACK = ['restorePreviousApiKeySecret', ...RESTART, 'rehashApiKeys', 'removePreviousApiKeySecret', ...RESTART];

  const failing: Array<[string, ActivityName, (s: StandIns) => void, RegExp, readonly string[]]> = [
    [
      'the service does not get ready in dual-secret mode',
      'waitForReady',
      (s) => s.fail('waitForReady', 'not ready: 503', { nth: 1 }),
      /not ready: 503/,
      ['stopServices', 'startServices', 'waitForReady'],
    ],
    [
      'a verify check fails in dual-secret mode',
      'runDeploymentChecks',
      (s) => s.answer('runDeploymentChecks', (_: unknown, nth: number) => (nth === 1 ? [failedCheck('old key works', 'HTTP 401')] : [])),
      /old key works: HTTP 401/,
      RESTART,
    ],
  ];
  for (const [what, , setUp, message, restart] of failing) {
    test(`${what}: rolled back, RotationRolledBack`, async () => {
      const s = new StandIns();
      setUp(s);
      const handle = await wf.start('rotateApiKeySecret', { deployment: 'wf' }, s);
      const err = await failureOf(handle);
      assert.match(deepest(err), message);
      assert.match(deepest(err), /rolled back to the previous secret fp-old; nothing was re-hashed$/);
      assert.deepEqual(s.names(), ['beginApiKeyRotation', ...restart, ...ROLLED_BACK]);
      assert.match((await progressOf(handle)).outcome ?? '', /^failed in dual-secret mode; rolled back to the previous secret fp-old/);
    });
  }

  test('rejected at verify-dual-secret: rolled back, and the result says so', async () => {
    const s = new StandIns();
    const handle = await wf.start<{ outcome: string; state: string }>('rotateApiKeySecret', { deployment: 'wf' }, s);
    await waitingAt(handle, 'verify-dual-secret');
    await decide(handle, 'verify-dual-secret', false);
    const r = await handle.result();
    assert.deepEqual([r.outcome, r.state], ['rejected', 'rolled-back']);
    assert.deepEqual(s.names(), ['beginApiKeyRotation', ...RESTART, ...ROLLED_BACK]);
  });

  test('the rollback fails too: RollbackFailed, naming both secrets', async () => {
    const s = new StandIns();
    s.fail('waitForReady', 'not ready: 503', { nth: 1 });
    s.fail('restorePreviousApiKeySecret', 'env file is read-only');
    const handle = await wf.start('rotateApiKeySecret', { deployment: 'wf' }, s);
    const err = await failureOf(handle);
    assert.match(
      deepest(err),
      /did not work in dual-secret mode .*, and the rollback failed: .*env file is read-only\. The env file names both secrets \(fp-old and fp-new\)/,
    );
    assert.deepEqual(s.names(), ['beginApiKeyRotation', 'stopServices', 'startServices', 'waitForReady', 'restorePreviousApiKeySecret']);
    assert.match((await progressOf(handle)).outcome ?? '', /^rollback failed: /);
  });

  test('after the re-hash a failing restart does not roll back: it stays in dual-secret mode and says how to finish', async () => {
    const s = new StandIns();
    s.fail('waitForReady', 'not ready: 503', { nth: 2 });
    const handle = await wf.start('rotateApiKeySecret', { deployment: 'wf' }, s);
    await waitingAt(handle, 'verify-dual-secret');
    await decide(handle, 'verify-dual-secret', true);
    const err = await failureOf(handle);
    assert.match(
      deepest(err),
      /not ready: 503\. wf stays in dual-secret mode: both secrets are accepted and every key is re-hashed under fp-new/,
    );
    assert.deepEqual(s.names(), ['beginApiKeyRotation', ...RESTART, 'rehashApiKeys', 'stopServices', 'startServices', 'waitForReady']);
  });
});

test('signing key rotation: a failing verify check after the restart says where the keys are', async () => {
  const s = new StandIns().answer('runDeploymentChecks', [failedCheck('chain verifies', 'entry 7: bad signature')]);
  const handle = await wf.start('rotateSigningKey', { deployment: 'wf' }, s);
  const err = await failureOf(handle);
  assert.match(
    deepest(err),
    /^verification failed: chain verifies: entry 7: bad signature\. wf signs with the new key key-new; the old key key-old is in backups\/signing-keyring\.json/,
  );
  assert.deepEqual(s.names(), ['rotateSigningKey', 'stopServices', 'startServices', 'waitForReady', 'runDeploymentChecks']);
});
