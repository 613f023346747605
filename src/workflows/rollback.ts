// rollback.sh as a workflow. Migrations are forward-only, so a rollback restores the whole
// database from a backup and runs the release that backup was taken under.
//
// Safer than the script's order (restore, write version, pull, restart): the release is
// pulled first, so a registry outage fails the rollback before anything changes; and the
// version is written before the restore, because the restore child restarts the services
// and they must come up as the target release on the restored database — never the newer
// release on an older schema.
import { executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { GATES } from '../domain/gate-names';
import type { RollbackInput, RollbackResult } from '../domain/release-types';
import { hasFailureType } from '../domain/failure-chain';
import { TARGET_VERSION } from '../domain/search-attributes';
import type { BackupManifest, GateDecision } from '../domain/types';
import { isVersion } from '../domain/version';
import { childWorkflowId } from '../domain/workflow-ids';
import { quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible, watchCancellation, type WhatCancellationLeaves } from './cancellation';
import { failedActivityOfChild, humanDuration, refuse } from './failures';
import type { Gates } from './gate';
import { beginOperation } from './operation';
import { FETCH_OFFSITE_STEP, fetchOffsiteStep } from './offsite';
import type { ProgressTracker } from './progress';
import { pullRollbackRelease, switchRelease } from './rollback-steps';
import { keptCopiesNote, restore } from './restore';
import { rollbackToPoint } from './rollback-to-point';

export const ROLLBACK_STEPS = [
  'Locate backup',
  'Resolve target version',
  'Confirm rollback',
  'Pull release',
  'Write release version',
  'Restore backup and restart',
  'Verify version',
] as const;

export async function rollback(input: RollbackInput): Promise<RollbackResult> {
  const steps = input.remote ? [FETCH_OFFSITE_STEP, ...ROLLBACK_STEPS] : [...ROLLBACK_STEPS];
  const { progress, gates } = beginOperation('rollback', input.deployment, steps, input.version);
  const leaves = cancellationLeaves('nothing was changed');
  return endCleanlyOnCancel(progress, leaves, () => rollbackSteps(input, progress, gates, leaves));
}

/** `day2 cancel` stops a rollback at once until it writes the release version; from there
 * (version, restore, restart, verify) it is finished first — stopping half-way would leave
 * the old release on the newer schema — and then ends CANCELLED, saying so. */
async function rollbackSteps(
  input: RollbackInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<RollbackResult> {
  if (input.pitr) return rollbackToPoint(input, progress, gates, leaves);
  const { deployment } = input;
  const cancel = watchCancellation();
  const { manifest, from, target } = await chooseBackupAndTarget(input, progress);
  // Workflow time (deterministic): what is lost is everything since the backup.
  const lostSince = () => Math.round((Date.now() - Date.parse(manifest.createdAt)) / 1000);
  const base = { from, version: target, backup: manifest.file, backupTakenAt: manifest.createdAt };

  const decision = await confirmRollback(input, progress, gates, { manifest, from, target, lost: humanDuration(lostSince()) });
  if (decision && !decision.approve) {
    progress.finish(`rejected by ${decision.by}: nothing was changed`);
    return { ...base, lostSeconds: 0, outcome: 'rejected', reason: decision.reason };
  }

  const pulled = await pullRollbackRelease(progress, deployment, target);
  // Version, restore and restart, verify: run to their end together.
  const { lostSeconds, restored } = await uninterruptible(() =>
    switchRelease(progress, deployment, target, lostSince, {
      run: () => restoreAndRestart(input, manifest.file, from, progress),
      describe: (r) => `restored ${r.file}; previous data kept as ${r.keptAs}; services restarted and ready`,
    }),
  );

  const done = `rolled back to ${target} from ${manifest.file}; the ${humanDuration(lostSeconds)} of changes since it are gone (kept as ${restored.keptAs}${keptCopiesNote(restored.kept)})`;
  if (cancel.requested) {
    leaves.now = `the rollback had begun changing ${deployment}, so it was finished first: ${done}`;
    throw cancel.requested;
  }
  progress.finish(done);
  return {
    ...base,
    lostSeconds,
    outcome: 'rolled-back',
    keptAs: restored.keptAs,
    kept: restored.kept,
    warning: pulled.warning,
    checks: restored.checks,
    reason: input.reason,
  };
}

/** What the rollback restores and which release it runs. */
interface RollbackPlan {
  manifest: BackupManifest;
  from: string | null;
  target: string;
}

async function chooseBackupAndTarget(input: RollbackInput, progress: ProgressTracker): Promise<RollbackPlan> {
  // From the bucket: downloaded and verified into the backup directory, then the same path.
  const fetched = input.remote ? await fetchOffsiteStep(progress, input.deployment, input.remote) : undefined;
  const manifest = await progress.step(
    'Locate backup',
    () => locateBackup(fetched ? { ...input, backup: fetched } : input),
    (m) => `${m.file}, taken ${m.createdAt}`,
  );
  const { from, target } = await progress.step(
    'Resolve target version',
    () => resolveTarget(input, manifest),
    (r) => `${r.from ?? 'unknown'} → ${r.target} (${r.source})`,
  );
  // Known only now when --version was not given: let the Web UI and `day2 list` filter on it.
  upsertSearchAttributes([{ key: TARGET_VERSION, value: target }]);
  return { manifest, from, target };
}

/** The decision at the confirm-rollback gate; none when decided up front (--yes, or by the upgrade). */
async function confirmRollback(
  input: RollbackInput,
  progress: ProgressTracker,
  gates: Gates,
  { manifest, from, target, lost }: RollbackPlan & { lost: string },
): Promise<GateDecision | undefined> {
  if (input.yes) {
    progress.skip('Confirm rollback', input.reason ? `decided by the upgrade: ${input.reason}` : 'confirmed up front (--yes)');
    return undefined;
  }
  return gates.wait('Confirm rollback', {
    name: GATES.confirmRollback,
    question:
      `Roll ${input.deployment} back from ${from ?? 'an unknown release'} to ${target} by restoring ${manifest.file} ` +
      `(taken ${manifest.createdAt}, ${lost} ago)? Everything written since the backup — the last ${lost} — is lost ` +
      `(the current database is kept aside).`,
    timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
    defaultOutcome: 'reject',
  });
}

/** The backup named, verified; else the newest that verifies. */
async function locateBackup(input: RollbackInput): Promise<BackupManifest> {
  const { deployment } = input;
  const verify = (file: string) =>
    quick.verifyBackup.executeWithOptions({ summary: `Verify ${file}: manifest checksum and pg_restore --list` }, [{ deployment, file }]);
  if (input.backup) return verify(input.backup);
  const backups = await quick.listBackups.executeWithOptions({ summary: `List ${deployment}'s backups` }, [{ deployment }]);
  for (const candidate of backups) {
    try {
      return await verify(candidate.file);
    } catch {
      // A damaged backup is skipped: the next newest may be fine (the failure is in history).
    }
  }
  refuse(`no backup of ${deployment} verifies${backups.length ? ` (${backups.length} checked)` : ''}: nothing to roll back to`);
}

/** --version, else the backup's own record of its release, else `.pre-upgrade-version`. */
async function resolveTarget(input: RollbackInput, manifest: BackupManifest) {
  const { deployment } = input;
  const from = await quick.detectRunningVersion.executeWithOptions({ summary: `Read ${deployment}'s running version` }, [{ deployment }]);
  const candidates: Array<[string | null | undefined, string]> = [
    [input.version, '--version'],
    [manifest.preUpgradeVersion, 'backup manifest, pre-upgrade version'],
    [manifest.appVersion, 'backup manifest, running version'],
  ];
  let found = candidates.find(([v]) => v);
  if (!found) {
    const recorded = await quick.readPreUpgradeVersion.executeWithOptions({ summary: 'Read .pre-upgrade-version' }, [{ deployment }]);
    found = [recorded, '.pre-upgrade-version'];
  }
  const [target, source] = found;
  if (!target) refuse(`cannot tell which release ${manifest.file} belongs to: pass --version`);
  if (!isVersion(target)) refuse(`${source} says ${JSON.stringify(target)}, which is not a release version: pass --version`);
  return { from, target, source };
}

/** The restore child (non-interactive: this workflow's gate confirmed). If it fails before
 * its swap, the live database is untouched: put the previous version back (saga). */
async function restoreAndRestart(input: RollbackInput, file: string, from: string | null, progress: ProgressTracker) {
  const { deployment } = input;
  try {
    return await executeChild(restore, {
      workflowId: childWorkflowId(workflowInfo().workflowId, 'restore'),
      // This rollback puts the backup's release in place itself.
      args: [{ deployment, file, yes: true, releaseDecided: true }],
    });
  } catch (err) {
    if (from && liveDatabaseUntouched(err)) {
      await quick.writeReleaseVersion.executeWithOptions({ summary: `Undo: write ${from} back` }, [{ deployment, version: from }]);
      await quick.startServices.executeWithOptions({ summary: `Make sure ${deployment} runs ${from} again` }, [{ deployment }]);
      progress.mark('Write release version', 'done', `undone: the restore failed before replacing the database; back to ${from}`);
    }
    throw err;
  }
}

/** The restore child says so by its failure type. Histories of restores that failed before
 * that type existed name only the failed activity: those of its steps before the swap. */
function liveDatabaseUntouched(err: unknown): boolean {
  const failedAt = failedActivityOfChild(err);
  return hasFailureType(err, 'RestoreFailedBeforeSwap') || (failedAt !== undefined && LEGACY_BEFORE_SWAP.has(failedAt));
}

const LEGACY_BEFORE_SWAP = new Set(['verifyBackup', 'stageRestore', 'dropDatabaseIfExists', 'stopServices']);
