// upgrade.sh as a workflow, safer: the release is pulled before anything stops (a pull
// that fails leaves the service untouched); the pre-upgrade backup is the backup workflow
// as a child; and a failure from the first stop on is answered by a rollback — after a
// gate whose default on timeout is to roll back, or at once with `autoRollback: true`.
import { executeChild, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { GATES } from '../domain/gate-names';
import { failure } from '../domain/failures';
import { type RollbackResult, type UpgradeInput, type UpgradePolicy, type UpgradeResult } from '../domain/release-types';
import { compareVersions, isVersion } from '../domain/version';
import { childWorkflowId } from '../domain/workflow-ids';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible, watchCancellation, type WhatCancellationLeaves } from './cancellation';
import { deepestMessage, humanDuration, refuse } from './failures';
import { beginOperation } from './operation';
import type { Gates } from './gate';
import type { ProgressTracker } from './progress';
import { failedChecksText, preflightChecks, runPreflight, verifyServiceVersion } from './release-checks';
import { rollback } from './rollback';
import { PATCHES } from '../domain/patches';
import { MARK_POINT_STEP, markPreUpgradePoint, PRE_UPGRADE_BACKUP_STEP, takePreUpgradeBackup, type UndoPoint } from './upgrade-undo';

export const UPGRADE_STEPS = [
  'Check versions',
  'Pre-upgrade preflight',
  'Pull release',
  'Pre-upgrade backup',
  'Stop worker',
  'Mark recovery point',
  'Run migrations',
  'Write release version',
  'Comment out deprecated variables',
  'Restart services',
  'Wait for readiness',
  'Run preflight checks',
  'Verify version',
] as const;
type UpgradeStep = (typeof UPGRADE_STEPS)[number];

/** Appended only when an upgrade fails after it started changing things. */
const DECIDE_STEP = 'Decide rollback';
const ROLLBACK_STEP = 'Roll back';
const DEFAULT_ROLLBACK_GATE_TIMEOUT_S = 30 * 60;
const DEFAULT_PREFLIGHT_GATE_TIMEOUT_S = 30 * 60;

export async function upgrade(input: UpgradeInput): Promise<UpgradeResult> {
  // The recovery point is pgBackRest's alone: a pg_dump upgrade does not list it.
  const steps = UPGRADE_STEPS.filter((s) => s !== MARK_POINT_STEP || input.pgbackrest);
  const { progress, gates } = beginOperation('upgrade', input.deployment, steps, input.version);
  // What a cancellation leaves, kept current as the upgrade goes (see upgradeSteps).
  const leaves = cancellationLeaves('nothing on the service was changed');
  return endCleanlyOnCancel(progress, leaves, () => upgradeSteps(input, progress, gates, leaves));
}

/** `day2 cancel` ends an upgrade in a named state. Until the first stop it simply stops:
 * nothing changed. From there on the changing steps are never cut off mid-way (a migration
 * half run is worse than either end); the cancellation takes effect at the next step
 * boundary by rolling back to the pre-upgrade backup — or, with --skip-backup, where there
 * is nothing to roll back to, once the upgrade has run to its end. */
async function upgradeSteps(
  input: UpgradeInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<UpgradeResult> {
  const { deployment, version: to } = input;
  const cancel = watchCancellation();

  // Steps 1–3 change nothing on the service: a failure here simply fails the upgrade.
  const { from, policy } = await progress.step(
    'Check versions',
    () => checkVersions(input),
    (r) => `${r.from} → ${to}`,
  );
  if (patched(PATCHES.preUpgradePreflight)) {
    const proceed = await preUpgradePreflight(input, progress, gates);
    if (!proceed.ok) {
      progress.finish(`rejected by ${proceed.by}: nothing was changed`);
      return { outcome: 'rejected', from, to, reason: proceed.reason };
    }
  } else {
    progress.skip('Pre-upgrade preflight', 'started before day2 checked before upgrading');
  }
  await progress.step(
    'Pull release',
    () =>
      long.pullRelease.executeWithOptions({ summary: `Pull release ${to} (before anything is stopped)` }, [{ deployment, version: to }]),
    () => `pulled ${to}`,
  );
  let taken: UndoPoint | undefined;
  if (input.skipBackup) {
    progress.skip(PRE_UPGRADE_BACKUP_STEP, '--skip-backup: no backup, so no automatic rollback if the upgrade fails');
    if (input.pgbackrest) progress.skip(MARK_POINT_STEP, '--skip-backup: nothing to recover to');
  } else {
    taken = await takePreUpgradeBackup(input, from, progress);
  }

  // From here on the service changes: any failure leads to the rollback decision.
  let current: UpgradeStep = 'Stop worker';
  const step = <T>(name: UpgradeStep, fn: () => Promise<T>, describe?: (r: T) => string | undefined) => {
    if (cancel.requested && taken) throw cancel.requested;
    current = name;
    return progress.step(name, fn, describe);
  };
  const ctx = () => ({ input, from, to, policy, progress, gates, backup: taken });
  const afterStop = async () => {
    if (taken) taken = await markPreUpgradePoint(input, from, taken, step);
  };
  try {
    await uninterruptible(() => applyUpgrade(deployment, from, to, policy, step, progress, afterStop));
  } catch (err) {
    if (cancel.requested && taken) {
      const reason = isCancellation(err)
        ? `cancelled after '${current}'`
        : `cancelled; meanwhile ${current} failed: ${deepestMessage(err)}`;
      const result = await uninterruptible(() => rollBack({ ...ctx(), reason }, taken!));
      leaves.now = `the upgrade was undone (${reason}): back on ${result.version}, data from ${result.backup}; the upgraded database is kept as ${result.keptAs}`;
      progress.finish(`cancelled: ${leaves.now}`);
      throw cancel.requested;
    }
    const reason = `${current} failed: ${deepestMessage(err)}`;
    leaves.now = taken
      ? `the failed upgrade is left as it is (${reason}); to undo it: day2 rollback ${taken.hint}`
      : `the failed upgrade is left as it is (${reason})`;
    return afterFailure({ ...ctx(), reason });
  }
  if (cancel.requested) {
    // With a backup, a cancellation is acted on between steps (rolled back above); one that
    // arrived during the last step finds the upgrade done.
    leaves.now = taken
      ? `the cancellation came during '${current}', the last step, so the upgrade ran to its end: ${deployment} runs ${to}; to undo it: day2 rollback ${taken.hint}`
      : `there is no pre-upgrade backup (--skip-backup) to undo it with, so the upgrade ran to its end: ${deployment} runs ${to}`;
    throw cancel.requested;
  }
  progress.finish(`upgraded ${deployment} from ${from} to ${to}`);
  return { outcome: 'upgraded', from, to, backup: taken?.name };
}

/** Refuses bad input before anything happens: not semver, same version, a downgrade. */
async function checkVersions(input: UpgradeInput): Promise<{ from: string; policy: UpgradePolicy }> {
  const { deployment, version: to } = input;
  if (!isVersion(to)) refuse(`${JSON.stringify(to)} is not a release version (expected MAJOR.MINOR.PATCH, e.g. 1.4.2)`);
  const from = await quick.detectRunningVersion.executeWithOptions({ summary: `Read ${deployment}'s running version` }, [{ deployment }]);
  if (!from) refuse(`cannot tell which release ${deployment} runs: set its version variable in the env file or the version file`);
  if (!isVersion(from))
    refuse(`${deployment} runs ${JSON.stringify(from)}, which is not a release version: fix the env file's version first`);
  const order = compareVersions(to, from);
  if (order === 0) refuse(`${deployment} already runs ${to}: nothing to upgrade`);
  if (order < 0 && !input.force) {
    refuse(`${to} is older than the running ${from}: that is a rollback (day2 rollback restores the matching backup), or pass --force`);
  }
  const policy = await quick.readUpgradePolicy.executeWithOptions({ summary: `Read ${deployment}'s upgrade policy` }, [{ deployment }]);
  return { from, policy };
}

/** The runbook's preflight, before anything is pulled, backed up or stopped: an env file
 * or database that fails it would fail the upgrade half-way. Failing checks refuse the
 * upgrade (exit 2, each check named), or, when the operator asked, wait at a gate whose
 * default is to refuse. The same checks run again after the restart. */
async function preUpgradePreflight(
  input: UpgradeInput,
  progress: ProgressTracker,
  gates: Gates,
): Promise<{ ok: true } | { ok: false; by: string; reason: string }> {
  const { deployment, version: to } = input;
  const STEP = 'Pre-upgrade preflight';
  const checks = await progress.step(STEP, () => preflightChecks(deployment, `Preflight of ${deployment} before upgrading to ${to}`));
  if (!progress.showChecks(STEP, checks).length) return { ok: true };
  const list = failedChecksText(checks);
  if (!input.askOnFailedPreflight) {
    refuse(
      `preflight failed before the upgrade changed anything: ${list}. Fix these and start the upgrade again ` +
        `(day2 preflight shows them), or pass --ask-on-failed-preflight to decide at a gate.`,
    );
  }
  const decision = await gates.wait(STEP, {
    name: GATES.proceedDespitePreflight,
    question: `Preflight of ${deployment} failed before upgrading to ${to}: ${list}. Upgrade anyway? Reject to change nothing.`,
    timeoutSeconds: input.gateTimeoutSeconds ?? DEFAULT_PREFLIGHT_GATE_TIMEOUT_S,
    defaultOutcome: 'reject',
  });
  return decision.approve ? { ok: true } : { ok: false, by: decision.by, reason: `preflight failed (${list}); ${decision.reason}` };
}

type StepRunner = <T>(name: UpgradeStep, fn: () => Promise<T>, describe?: (r: T) => string | undefined) => Promise<T>;

/** Steps 4–10 of the runbook, in its order. Each activity is idempotent, so a worker killed
 * anywhere here resumes with the step it was in. */
async function applyUpgrade(
  deployment: string,
  from: string,
  to: string,
  policy: UpgradePolicy,
  step: StepRunner,
  progress: ProgressTracker,
  afterStop: () => Promise<void>,
) {
  await step('Stop worker', () =>
    quick.stopServices.executeWithOptions({ summary: `Stop ${deployment}'s worker so no job runs during migration` }, [
      { deployment, scope: 'worker' },
    ]),
  );
  await afterStop();
  await step('Run migrations', () =>
    long.runMigrations.executeWithOptions({ summary: `Run migrations with release ${to}` }, [{ deployment, version: to }]),
  );
  await step('Write release version', () =>
    quick.writeReleaseVersion.executeWithOptions({ summary: `Write ${to} into the env file and the version file` }, [
      { deployment, version: to },
    ]),
  );
  if (policy.deprecatedVars.length) {
    const day = workflowInfo().startTime.toISOString().slice(0, 10);
    const note = `removed in ${to}: commented out by day2 upgrade ${from} → ${to} on ${day}`;
    await step(
      'Comment out deprecated variables',
      () =>
        quick.commentOutDeprecatedVars.executeWithOptions({ summary: `Comment out ${policy.deprecatedVars.join(', ')} if set` }, [
          { deployment, note },
        ]),
      (r) => (r.commentedOut.length ? `commented out ${r.commentedOut.join(', ')}` : 'none set'),
    );
  } else {
    progress.skip('Comment out deprecated variables', 'none configured (deprecatedVars)');
  }
  await step('Restart services', async () => {
    await quick.stopServices.executeWithOptions({ summary: `Stop all of ${deployment}'s services` }, [{ deployment, scope: 'all' }]);
    await quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services as ${to}` }, [{ deployment }]);
  });
  await step(
    'Wait for readiness',
    () =>
      long.waitForReady.executeWithOptions({ summary: `Wait up to ${policy.readyTimeoutSeconds} s for ${deployment} to report ready` }, [
        { deployment, leftState: `Release ${to} was started on the migrated database (it was ${from} before).` },
      ]),
    (r) => `ready after ${(r.readyAfterMs / 1000).toFixed(1)} s`,
  );
  await step(
    'Run preflight checks',
    () => runPreflight(deployment),
    (rs) => rs.map((c) => `✓ ${c.name}`).join(', ') || 'no checks configured',
  );
  await step(
    'Verify version',
    () => verifyServiceVersion(deployment, to),
    (v) => v,
  );
}

interface FailureContext {
  input: UpgradeInput;
  from: string;
  to: string;
  reason: string;
  backup?: UndoPoint;
  policy: UpgradePolicy;
  progress: ProgressTracker;
  gates: Gates;
}

/** Step 7 of the issue: offer (or, per config, run) the rollback to the pre-upgrade backup. */
async function afterFailure(ctx: FailureContext): Promise<UpgradeResult> {
  const { input, from, to, reason, backup: taken, policy, progress, gates } = ctx;
  const { deployment } = input;
  const failed = (why: string): UpgradeResult => {
    progress.finish(`upgrade to ${to} failed: ${why}`);
    return { outcome: 'failed', from, to, reason: why, backup: taken?.name };
  };
  if (!taken) {
    // Restoring some older backup would silently lose more than this upgrade touched.
    return failed(
      `${reason}. No pre-upgrade backup was taken (--skip-backup), so day2 does not roll back by itself: ` +
        `fix forward, or \`day2 rollback --backup <file> --version ${from}\` accepting the loss since that backup`,
    );
  }

  if (policy.autoRollback || input.yes) {
    progress.skip(
      DECIDE_STEP,
      policy.autoRollback ? 'upgrade.autoRollback: true — rolling back without asking' : '--yes: rolling back without asking',
    );
  } else {
    const since = humanDuration((Date.now() - Date.parse(taken.takenAt)) / 1000);
    const decision = await gates.wait(DECIDE_STEP, {
      name: GATES.rollbackFailedUpgrade,
      question:
        `The upgrade of ${deployment} to ${to} failed (${reason}). Roll back to ${from} by ${taken.how} ` +
        `(taken ${since} ago)? Everything written since then is lost. Reject to leave it as it is and fix forward.`,
      timeoutSeconds: input.gateTimeoutSeconds ?? policy.rollbackGateTimeoutSeconds ?? DEFAULT_ROLLBACK_GATE_TIMEOUT_S,
      defaultOutcome: 'approve',
    });
    if (!decision.approve)
      return failed(
        `${reason}. Rollback declined by ${decision.by} (${decision.reason}): ${deployment} is left as the failed upgrade left it`,
      );
  }

  // A rollback is the undo: a cancellation that arrives meanwhile does not cut it short.
  const result = await uninterruptible(() => rollBack(ctx, taken));
  progress.finish(`upgrade to ${to} failed and was rolled back to ${from}: ${reason}`);
  return { outcome: 'rolled-back', from, to, reason, backup: taken.name, rollback: result };
}

/** Rolls back to the pre-upgrade backup (the rollback workflow, as a child). A rollback that
 * fails too is the one case a person must act on: both failures in one line (the child's
 * history has the details). */
async function rollBack(ctx: FailureContext, taken: UndoPoint): Promise<RollbackResult> {
  const { input, from, to, progress, reason } = ctx;
  const { deployment } = input;
  const rollbackId = childWorkflowId(workflowInfo().workflowId, 'rollback');
  try {
    return await progress.step(
      ROLLBACK_STEP,
      () => executeChild(rollback, { workflowId: rollbackId, args: [{ deployment, version: from, ...taken.rollback, yes: true, reason }] }),
      (r) => `back on ${r.version}, data from ${r.backup}; the database it replaced is kept as ${r.keptAs}`,
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    progress.finish(`upgrade to ${to} failed, and so did the rollback`);
    throw failure(
      'RollbackFailed',
      `${reason}; the rollback to ${from} from ${taken.name} failed too: ${deepestMessage(err)} (see ${rollbackId})`,
    );
  }
}
