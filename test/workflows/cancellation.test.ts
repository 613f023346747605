// `day2 cancel` at every step of every operation: for each operation a reference run
// records the activity calls it makes; then, for each of those calls in turn, a run holds
// exactly that call (the stand-in heartbeats) and the test cancels the workflow while it
// runs. Each time the workflow must end CANCELLED with an outcome in its progress query
// that names where it stopped and what that leaves, no gate open, and every section that
// must not be cut short (services stopped → swapped → started, a secret written → the
// restart, a rollback that has begun) run to its end: a held call there is never
// cancelled, and the calls after it follow.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { Progress } from '../../src/domain/types';
import {
  decide,
  progressOf,
  StandIns,
  startWorkflowWorker,
  type WorkflowWorker,
  BACKUP_CALLS,
  RESTART_CALLS,
  RESTORE_CALLS,
} from '../harness/stand-ins';

let wf: WorkflowWorker;
before(async () => {
  wf = await startWorkflowWorker('cancel-all');
});
after(() => wf?.stop());

/** Approves every gate the workflow opens, until it ends (rotations wait at two). */
async function approveGates(handle: WorkflowHandle, done: () => boolean): Promise<void> {
  while (!done()) {
    const p = await progressOf(handle).catch(() => undefined);
    if (p?.gate) await decide(handle, p.gate.name, true).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
  }
}

interface Ended {
  status: string;
  progress: Progress;
  /** Call names, notifications left out. */
  calls: string[];
  held: { name: string; cancelled: boolean };
  /** The webhook notifications' outcomes (operations that report). */
  notified: string[];
}

async function run(workflowType: string, input: unknown, hold?: number): Promise<Ended> {
  const s = new StandIns();
  // A held call that can be cancelled is (within ~50 ms on an idle machine); one in an
  // uninterruptible section ends after 3 s, long enough for the cancellation to reach the
  // workflow first. (1 s was not, under the load of a whole `npm test`: a cancellable call
  // then ended by itself before its cancellation arrived, and the outcome named no step.)
  if (hold !== undefined) s.holdCall(hold, 3000);
  const handle = await wf.start(workflowType, input, s);
  let ended = false;
  const approving = approveGates(handle, () => ended);
  if (hold !== undefined) {
    await s.held;
    await handle.cancel();
  }
  await handle.result().catch(() => undefined);
  ended = true;
  await approving;
  const heldCall = hold === undefined ? undefined : s.calls.filter((c) => c.name !== 'notifyWebhook')[hold];
  return {
    status: (await handle.describe()).status.name,
    progress: await progressOf(handle),
    calls: s.names(),
    held: { name: heldCall?.name ?? '', cancelled: !!heldCall?.cancelled },
    notified: s.calls.filter((c) => c.name === 'notifyWebhook').map((c) => (c.input as { outcome: string }).outcome),
  };
}

interface Operation {
  workflowType: string;
  input: unknown;
  /** The reference run's calls, in order (checked: the plan the rest is built on). */
  reference: readonly string[];
  /** What a cancellation while call `i` runs must leave. */
  expect: (i: number, e: Ended) => void;
}

/** `calls` continue, after the held call, with exactly `next`. */
function followedBy(e: Ended, i: number, next: string[]): void {
  assert.deepEqual(e.calls.slice(i + 1), next, `after ${e.held.name}: ${e.calls.join(' ')}`);
}

const RESTART = RESTART_CALLS;
/** A restore started by a person also reads the running release (a backup of another one
 * needs --release) and runs the preflight checks before its own; the rollback's restore
 * child does neither (it put the release in place, and runs preflight itself). */
const DIRECT_RESTORE_CALLS = [
  'verifyBackup',
  'detectRunningVersion',
  ...RESTORE_CALLS.slice(1, 6),
  'runDeploymentChecks',
  ...RESTORE_CALLS.slice(6),
];

const OPERATIONS: Record<string, Operation> = {
  backup: {
    workflowType: 'backup',
    input: { deployment: 'wf' },
    reference: BACKUP_CALLS,
    expect: (i, e) => {
      // (Asking whether an off-site copy is configured runs before that step is marked running.)
      const during = ['Detect running version', 'Dump and verify', 'Apply retention'][i];
      assert.equal(e.progress.outcome, `cancelled${during ? ` during '${during}'` : ''}: the database is untouched`);
      followedBy(e, i, []);
      assert.deepEqual(e.notified, ['failed'], 'a cancelled backup still tells the webhook');
    },
  },
  restore: {
    workflowType: 'restore',
    input: { deployment: 'wf', file: 'wf-2026-01-01-000000.dump', yes: true },
    reference: DIRECT_RESTORE_CALLS,
    expect: (i, e) => {
      const name = DIRECT_RESTORE_CALLS[i]!;
      if (name === 'verifyBackup' || name === 'detectRunningVersion') {
        // Reading the running release is between steps: no step to name.
        const during = name === 'verifyBackup' ? " during 'Verify backup'" : '';
        assert.equal(e.progress.outcome, `cancelled${during}: nothing was changed`);
        followedBy(e, i, []);
      } else if (name === 'stageRestore') {
        assert.equal(e.progress.outcome, "cancelled during 'Restore into staging database': nothing was changed");
        followedBy(e, i, ['dropDatabaseIfExists']); // what pg_restore wrote is dropped
      } else if (['stopServices', 'swapInRestoredDatabase', 'startServices'].includes(name)) {
        assert.ok(!e.held.cancelled, `${name} runs uninterruptible`);
        followedBy(e, i, DIRECT_RESTORE_CALLS.slice(i + 1, 6)); // swapped and started again before the cancellation lands
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled during 'Wait for readiness': the backup is live \(previous data kept as live_pre_restore_\d{14}\) but was not verified$/,
        );
      } else {
        const step = { waitForReady: 'Wait for readiness', runDeploymentChecks: 'Verify restored data', countKeptCopies: '' }[name];
        assert.match(
          e.progress.outcome ?? '',
          new RegExp(
            `^cancelled${step ? ` during '${step}'` : ''}: the backup is live \\(previous data kept as live_pre_restore_\\d{14}\\) but was not verified$`,
          ),
        );
        followedBy(e, i, []);
      }
    },
  },
  upgrade: {
    workflowType: 'upgrade',
    input: { deployment: 'wf', version: '1.1.0' },
    reference: [
      'detectRunningVersion',
      'readUpgradePolicy',
      'runDeploymentChecks',
      'pullRelease',
      ...BACKUP_CALLS,
      'stopServices',
      'runMigrations',
      'writeReleaseVersion',
      'stopServices',
      'startServices',
      'waitForReady',
      'runDeploymentChecks',
      'readServiceVersion',
    ],
    expect: (i, e) => {
      if (i < 8) {
        // Before the first stop nothing changed: it simply stops (the backup child with it).
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled during '(Check versions|Pre-upgrade preflight|Pull release|Pre-upgrade backup)': nothing on the service was changed$/,
        );
        followedBy(e, i, []);
        return;
      }
      if (i === 15) {
        // During the last step: the upgrade is done when the cancellation can act; it says so
        // and how to undo it, and rolls nothing back by itself.
        followedBy(e, i, []);
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled: the cancellation came during 'Verify version', the last step, so the upgrade ran to its end: wf runs 1\.1\.0; to undo it: day2 rollback --backup wf-\d{4}-\d\d-\d\d-\d{6}\.dump --version 1\.0\.0$/,
        );
        return;
      }
      // From the first stop on, the step in progress finishes, then the upgrade is undone
      // by the rollback child (uninterruptible), restoring the pre-upgrade backup.
      assert.ok(!e.held.cancelled, `${e.held.name} (a changing step) is never cut off`);
      const rollback = [
        'verifyBackup',
        'detectRunningVersion',
        'pullRelease',
        'writeReleaseVersion',
        ...RESTORE_CALLS,
        'readServiceVersion',
      ];
      assert.deepEqual(e.calls.slice(-rollback.length), rollback, e.calls.join(' '));
      assert.match(
        e.progress.outcome ?? '',
        /^cancelled: the upgrade was undone \(cancelled after '[^']+'\): back on 1\.0\.0, data from wf-\d{4}-\d\d-\d\d-\d{6}\.dump; the upgraded database is kept as live_pre_restore_\d{14}$/,
      );
    },
  },
  rollback: {
    workflowType: 'rollback',
    input: { deployment: 'wf', backup: 'wf-2026-01-01-000000.dump', version: '0.9.0', yes: true },
    reference: ['verifyBackup', 'detectRunningVersion', 'pullRelease', 'writeReleaseVersion', ...RESTORE_CALLS, 'readServiceVersion'],
    expect: (i, e) => {
      if (i < 3) {
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled during '(Locate backup|Resolve target version|Pull release)': nothing was changed$/,
        );
        followedBy(e, i, []);
        return;
      }
      // From writing the version on, it is finished first (the restore child included).
      assert.ok(!e.held.cancelled, `${e.held.name} runs uninterruptible`);
      assert.equal(e.calls.length, 13, e.calls.join(' '));
      assert.match(
        e.progress.outcome ?? '',
        /^cancelled: the rollback had begun changing wf, so it was finished first: rolled back to 0\.9\.0 from wf-2026-01-01-000000\.dump/,
      );
    },
  },
  rotateApiKeySecret: {
    workflowType: 'rotateApiKeySecret',
    input: { deployment: 'wf' },
    reference: ['beginApiKeyRotation', ...RESTART, 'rehashApiKeys', ...RESTART, 'removePreviousApiKeySecret', ...RESTART],
    expect: (i, e) => {
      const rolledBack = ['restorePreviousApiKeySecret', ...RESTART, 'rehashApiKeys', 'removePreviousApiKeySecret', ...RESTART];
      if (i === 0 || (i >= 1 && i <= 3)) {
        // The secret write, and the restart after it (stop, start, ready), finish; the
        // verify checks are skipped and it rolls back.
        assert.ok(!e.held.cancelled, `${e.held.name} runs uninterruptible`);
        followedBy(e, i, [...RESTART.slice(i === 0 ? 0 : i, 3), ...rolledBack]);
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled during '[^']+': rolled back to the previous secret fp-old; nothing was re-hashed$/,
        );
      } else if (i === 4) {
        // The verify checks of the dual-secret restart are cut short: roll back.
        followedBy(e, i, rolledBack);
        assert.equal(
          e.progress.outcome,
          "cancelled during 'Restart in dual-secret mode': rolled back to the previous secret fp-old; nothing was re-hashed",
        );
      } else if (i <= 9) {
        // After the approved (irreversible) re-hash: stays in dual-secret mode, and says how to finish.
        if (i >= 6 && i <= 8) {
          assert.ok(!e.held.cancelled, `${e.held.name} (the restart) runs uninterruptible`);
          followedBy(e, i, RESTART.slice(i - 5, 3));
        } else followedBy(e, i, []);
        assert.match(
          e.progress.outcome ?? '',
          /^cancelled during '(Re-hash API keys|Restart and verify)': wf stays in dual-secret mode: both secrets are accepted and every key is re-hashed under fp-new\. To finish, run `day2 rotate api-key-secret --deployment wf` again/,
        );
      } else {
        // Removing the previous secret and the restart belong together, and nothing follows
        // them: the rotation completes.
        assert.ok(!e.held.cancelled, `${e.held.name} runs uninterruptible`);
        followedBy(e, i, OPERATIONS.rotateApiKeySecret!.reference.slice(i + 1));
        assert.equal(e.status, 'COMPLETED');
        assert.match(e.progress.outcome ?? '', /^rotated: wf accepts only the new secret fp-new/);
      }
    },
  },
  rotateSigningKey: {
    workflowType: 'rotateSigningKey',
    input: { deployment: 'wf' },
    reference: ['rotateSigningKey', ...RESTART],
    expect: (i, e) => {
      if (i <= 3) {
        assert.ok(!e.held.cancelled, `${e.held.name} runs uninterruptible`);
        followedBy(e, i, RESTART.slice(i === 0 ? 0 : i, 3));
      } else followedBy(e, i, []);
      assert.equal(
        e.progress.outcome,
        "cancelled during 'Restart and verify across both keys': wf signs with the new key key-new; the old key key-old is in backups/signing-keyring.json",
      );
    },
  },
  drill: {
    workflowType: 'drill',
    input: { deployment: 'wf' },
    reference: ['listBackups', 'drillBackup'],
    expect: (i, e) => {
      followedBy(e, i, []);
      assert.deepEqual(e.notified, ['failed']);
      assert.match(e.progress.outcome ?? '', /^cancelled during '(Choose backup|Restore into a scratch cluster and check it)': /);
    },
  },
};

/** Cases that show a gap in today's workflows: run and reported as TODO, not failing CI. */
const KNOWN_GAPS: Record<string, string> = {};

for (const [name, op] of Object.entries(OPERATIONS)) {
  // Side by side: each run has its own workflow id and stand-ins.
  describe(`cancelling ${name} at every step`, { concurrency: true }, () => {
    test('the reference run (nothing cancelled) makes the calls the cases below are built on', async () => {
      const e = await run(op.workflowType, op.input);
      assert.equal(e.status, 'COMPLETED', JSON.stringify(e.progress));
      assert.deepEqual(e.calls, op.reference);
    });
    op.reference.forEach((activity, i) => {
      const gap = KNOWN_GAPS[`${name} ${i}`];
      test(`while ${activity} (call ${i + 1} of ${op.reference.length}) runs`, { todo: gap }, async () => {
        const e = await run(op.workflowType, op.input, i);
        assert.equal(e.held.name, activity);
        assert.equal(e.progress.gate, undefined, 'no gate left open');
        if (!(name === 'rotateApiKeySecret' && i >= 10)) assert.equal(e.status, 'CANCELLED', JSON.stringify(e.progress));
        op.expect(i, e);
      });
    });
  });
}

describe('cancelling while a gate waits', { concurrency: true }, () => {
  const cases: Array<[string, string, unknown, RegExp, string[]]> = [
    [
      'restore',
      'confirm-restore',
      { deployment: 'wf', file: 'wf-2026-01-01-000000.dump' },
      /^cancelled during 'Confirm restore': nothing was changed$/,
      [],
    ],
    [
      'rollback',
      'confirm-rollback',
      { deployment: 'wf', backup: 'wf-2026-01-01-000000.dump', version: '0.9.0' },
      /^cancelled during 'Confirm rollback': nothing was changed$/,
      [],
    ],
    [
      'rotateApiKeySecret',
      'verify-dual-secret',
      { deployment: 'wf' },
      /^cancelled during 'Verify dual-secret mode': rolled back to the previous secret fp-old; nothing was re-hashed$/,
      ['restorePreviousApiKeySecret', ...RESTART, 'rehashApiKeys', 'removePreviousApiKeySecret', ...RESTART],
    ],
  ];
  for (const [type, gate, input, outcome, after] of cases) {
    test(`${type} at ${gate}: the gate closes undecided, visibly`, async () => {
      const s = new StandIns();
      const handle = await wf.start(type, input, s);
      let p: Progress | undefined;
      for (let n = 0; n < 100 && p?.gate?.name !== gate; n++) p = await progressOf(handle);
      const before = s.names().length;
      await handle.cancel();
      await handle.result().catch(() => undefined);
      assert.equal((await handle.describe()).status.name, 'CANCELLED');
      const end = await progressOf(handle);
      assert.equal(end.gate, undefined);
      assert.match(end.outcome ?? '', outcome);
      assert.ok(
        end.steps.some((st) => st.detail === 'cancelled while waiting for a decision'),
        JSON.stringify(end.steps),
      );
      assert.deepEqual(s.names().slice(before), after);
    });
  }
});
