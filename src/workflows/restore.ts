// restore.sh as a workflow, safer: the archive is verified before anything destructive;
// the backup is restored into a staging database while the service still runs; the swap
// is one short step that keeps the live database as `<db>_pre_restore_<stamp>`.
import { ActivityCancellationType, executeChild, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { failure } from '../domain/failures';
import { deepestMessage, failureType } from '../domain/failure-chain';
import { GATES } from '../domain/gate-names';
import { formatBytes } from '../domain/human-bytes';
import type { BackupManifest, CheckResult, GateDecision, KeptCopies, RestoreInput, RestoreRelease, RestoreResult } from '../domain/types';
import { childWorkflowId } from '../domain/workflow-ids';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible, type WhatCancellationLeaves } from './cancellation';
import type { Gates } from './gate';
import { beginOperation, compactStamp } from './operation';
import { FETCH_OFFSITE_STEP, fetchOffsiteStep } from './offsite';
import type { ProgressTracker } from './progress';
import { PATCHES } from '../domain/patches';
import { refuse } from './failures';
import { preflightChecks, preflightNote } from './release-checks';
import type { rollback } from './rollback';

export const RESTORE_STEPS = [
  'Verify backup',
  'Confirm restore',
  'Restore into staging database',
  'Stop services',
  'Swap in restored database',
  'Start services',
  'Wait for readiness',
  'Verify restored data',
] as const;

export async function restore(input: RestoreInput): Promise<RestoreResult> {
  const steps = input.remote ? [FETCH_OFFSITE_STEP, ...RESTORE_STEPS] : [...RESTORE_STEPS];
  const { progress, gates } = beginOperation('restore', input.deployment, steps);
  // Nothing changed until the restored database is swapped in (swapStep says what then).
  const leaves = cancellationLeaves('nothing was changed');
  return endCleanlyOnCancel(progress, leaves, () => restoreSteps(input, progress, gates, leaves));
}

/** One restore's names, fixed at its start. */
interface RestorePlan {
  deployment: string;
  file: string;
  live: string;
  stagingDb: string;
  keepAs: string;
  stamp: string;
}

async function restoreSteps(
  input: RestoreInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<RestoreResult> {
  const { deployment } = input;
  // From the bucket: downloaded and verified into the backup directory, then the same path.
  const file = input.remote ? await fetchOffsiteStep(progress, deployment, input.remote) : input.file;
  if (!file) throw failure('BadInputError', 'name the backup to restore, or an off-site copy (--remote)');

  const manifest = await beforeSwap(() => verifyBackupStep(progress, deployment, file, input.yes === true));
  const releases = patched(PATCHES.releaseAwareRestore) && !input.releaseDecided ? await releasesOf(input, manifest) : undefined;
  const decision = await confirmRestore(input, progress, gates, file, manifest.createdAt, releases);
  if (decision && !decision.approve) {
    progress.finish(`rejected by ${decision.by}: nothing was changed`);
    return { outcome: 'rejected', file, checks: [], reason: decision.reason };
  }
  if (releases?.choice === 'backup') return restoreWithItsRelease(input, progress, file, releases);

  const stamp = compactStamp(workflowInfo().startTime);
  const live = manifest.database;
  const plan: RestorePlan = {
    deployment,
    file,
    live,
    stagingDb: `${live}_restore_${stamp}`,
    keepAs: `${live}_pre_restore_${stamp}`,
    stamp,
  };
  const staged = await beforeSwap(() => stageRestoreStep(progress, plan));
  const migrateForward = releases?.choice === 'running' ? migrateForwardStep(progress, plan, releases.running, leaves) : undefined;
  const keptAs = await swapStep(progress, plan, staged, leaves, migrateForward);
  const { checks, preflight } = await verifyRestoredStep(progress, plan, keptAs, !input.releaseDecided);
  // Every restore keeps its undo and nothing removes one: say how much is kept by now.
  const kept = patched(PATCHES.countKeptCopies)
    ? await quick.countKeptCopies.executeWithOptions({ summary: `Count the copies of replaced data kept for ${deployment}` }, [
        { deployment },
      ])
    : undefined;
  progress.finish(`restored ${file}; previous data kept as ${keptAs}${keptCopiesNote(kept)}${preflightNote(preflight)}`);
  return { outcome: 'restored', file, keptAs, checks, kept };
}

/** A failure that left the live database untouched says so by its type, so a caller
 * (rollback) can undo its own changes. A cancellation stays a cancellation. */
function untouched(err: unknown): unknown {
  if (isCancellation(err)) return err;
  return failure('RestoreFailedBeforeSwap', `${deepestMessage(err)}; the live database is untouched`, err as Error);
}

async function beforeSwap<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw untouched(err);
  }
}

/** With no gate to wait at (`--yes`), a custom archive's checksum is taken while the staging
 * restore reads it (still before anything destructive); a person asked to confirm is only
 * asked about a backup whose checksum held. */
function verifyBackupStep(progress: ProgressTracker, deployment: string, file: string, confirmed: boolean): Promise<BackupManifest> {
  return progress.step(
    'Verify backup',
    () =>
      quick.verifyBackup.executeWithOptions(
        {
          summary: confirmed
            ? `Verify ${file}: manifest and pg_restore --list (its checksum is taken while it is restored)`
            : `Verify ${file}: manifest checksum and pg_restore --list`,
        },
        [{ deployment, file, ...(confirmed ? { checksumWhileRestoring: true } : {}) }],
      ),
    (m) => `${m.file}: ${m.tocEntries} TOC entries, taken ${m.createdAt}`,
  );
}

/** The backup's release and the running one, when they differ (and how the operator chose
 * to reconcile them); a restore that would start a release on a schema it does not know is
 * refused before anything changed. */
interface Releases {
  backup: string;
  running: string;
  choice: RestoreRelease;
}

async function releasesOf(input: RestoreInput, manifest: BackupManifest): Promise<Releases | undefined> {
  const { deployment } = input;
  const backup = manifest.appVersion;
  if (!backup) return undefined;
  const running = await quick.detectRunningVersion.executeWithOptions({ summary: `Read ${deployment}'s running version` }, [
    { deployment },
  ]);
  if (!running || running === backup) return undefined;
  if (!input.release)
    refuse(
      `${manifest.file} was taken under release ${backup}, and ${deployment} runs ${running}: starting ${running} on that data ` +
        `would run it on a schema it may not know. Choose: --release backup (switch to ${backup} with its data, as day2 rollback does) ` +
        `or --release running (keep ${running} and run its migrations forward on the restored data before it starts). Nothing was changed.`,
    );
  return { backup, running, choice: input.release };
}

const releaseNote = (r: Releases) =>
  r.choice === 'backup'
    ? ` It was taken under release ${r.backup} (${r.running} runs now): ${r.backup} is pulled and runs on it, as a rollback does.`
    : ` It was taken under release ${r.backup} (${r.running} runs now): ${r.running} stays, and its migrations run forward on the restored data before it starts.`;

/** The decision at the confirm-restore gate; none when confirmed up front (--yes). */
async function confirmRestore(
  input: RestoreInput,
  progress: ProgressTracker,
  gates: Gates,
  file: string,
  takenAt: string,
  releases?: Releases,
): Promise<GateDecision | undefined> {
  if (input.yes) {
    progress.skip('Confirm restore', `confirmed up front (--yes)${releases ? `;${releaseNote(releases)}` : ''}`);
    return undefined;
  }
  return gates.wait('Confirm restore', {
    name: GATES.confirmRestore,
    question: `Replace all data of ${input.deployment} with ${file} (taken ${takenAt})? Everything written since is lost (the current database is kept aside).${releases ? releaseNote(releases) : ''}`,
    timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
    defaultOutcome: 'reject',
  });
}

/** True when restored into the staging database; false when the role cannot create one. */
function stageRestoreStep(progress: ProgressTracker, { deployment, file, stagingDb }: RestorePlan): Promise<boolean> {
  return progress.step(
    'Restore into staging database',
    async () => {
      try {
        // On cancel, wait for pg_restore to be stopped before dropping what it wrote.
        const waitForStop = { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
        await long.stageRestore.executeWithOptions(
          { summary: `pg_restore --no-owner --no-acl ${file} into ${stagingDb}`, ...waitForStop },
          [{ deployment, file, stagingDb }],
        );
        return true;
      } catch (err) {
        await uninterruptible(() =>
          quick.dropDatabaseIfExists.executeWithOptions({ summary: `Clean up ${stagingDb}` }, [{ deployment, name: stagingDb }]),
        );
        if (failureType(err) === 'NoCreateDb') return false;
        throw err;
      }
    },
    (ok) => (ok ? stagingDb : 'role cannot create databases: will restore in place after a safety dump'),
  );
}

/** Stop services, swap, start services; returns where the previous data is kept. Stopped
 * services are started again whatever happens: a cancellation that arrives during these
 * three steps takes effect after them. */
function swapStep(
  progress: ProgressTracker,
  plan: RestorePlan,
  staged: boolean,
  leaves: WhatCancellationLeaves,
  beforeStart?: (keptAs: string) => Promise<void>,
): Promise<string> {
  const { deployment } = plan;
  return uninterruptible(async () => {
    await beforeSwap(() =>
      progress.step('Stop services', () =>
        quick.stopServices.executeWithOptions({ summary: `Stop ${deployment}'s API and worker` }, [{ deployment, scope: 'all' }]),
      ),
    );
    const kept = await progress.step(
      'Swap in restored database',
      () => swapOrRecover(plan, staged, () => (staged ? swapInStaged(plan) : restoreInPlace(plan))),
      (previous) => `previous data kept as ${previous}`,
    );
    leaves.now = `the backup is live (previous data kept as ${kept}) but was not verified`;
    await beforeStart?.(kept);
    await progress.step('Start services', () =>
      quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services` }, [{ deployment }]),
    );
    return kept;
  });
}

/** The swap and the in-place restore are all-or-nothing: when one fails, the live
 * database is as it was, so drop the staging copy and bring the service back on it
 * before reporting the failure. */
async function swapOrRecover({ deployment, stagingDb }: RestorePlan, staged: boolean, swap: () => Promise<string>): Promise<string> {
  try {
    return await swap();
  } catch (err) {
    if (staged)
      await quick.dropDatabaseIfExists.executeWithOptions({ summary: `Clean up ${stagingDb}` }, [{ deployment, name: stagingDb }]);
    await quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services again on the untouched database` }, [
      { deployment },
    ]);
    throw untouched(err);
  }
}

async function swapInStaged({ deployment, live, stagingDb, keepAs }: RestorePlan): Promise<string> {
  await quick.swapInRestoredDatabase.executeWithOptions(
    { summary: `Terminate connections; rename ${live} → ${keepAs}, ${stagingDb} → ${live}` },
    [{ deployment, stagingDb, keepAs }],
  );
  return keepAs;
}

async function restoreInPlace({ deployment, live, file, stamp }: RestorePlan): Promise<string> {
  const safetyFile = `${deployment}-pre-restore-${stamp}.dump`;
  await long.restoreInPlace.executeWithOptions({ summary: `Safety dump to ${safetyFile}, then pg_restore --clean into ${live}` }, [
    { deployment, file, safetyFile },
  ]);
  return safetyFile;
}

const MIGRATE_STEP = 'Run migrations forward';

/** `--release running`: the running release's migrations on the restored data, while the
 * services are still stopped. If they fail, the services stay stopped (the release would
 * start on a schema it does not know) and the failure says where things stand. */
function migrateForwardStep(progress: ProgressTracker, plan: RestorePlan, running: string, leaves: WhatCancellationLeaves) {
  const { deployment } = plan;
  progress.insertAfter('Swap in restored database', MIGRATE_STEP);
  return async (keptAs: string) => {
    leaves.now = `the backup is live (previous data kept as ${keptAs}); ${running}'s migrations were running on it with the services stopped`;
    try {
      await progress.step(
        MIGRATE_STEP,
        () =>
          long.runMigrations.executeWithOptions({ summary: `Run release ${running}'s migrations on the restored data` }, [
            { deployment, version: running },
          ]),
        () => `${running}'s migrations applied`,
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      progress.finish(`restored ${plan.file}, but ${running}'s migrations failed on it; the services are stopped`);
      throw failure(
        'MigrationFailed',
        `restored ${plan.file} (previous data kept as ${keptAs}), but release ${running}'s migrations failed on it: ${deepestMessage(err)}. ` +
          `The services are stopped so ${running} does not start on a schema it does not know: fix the migration and run it, or restore again with --release backup.`,
        err as Error,
      );
    }
  };
}

/** `--release backup`: the backup with the release it was taken under is a rollback (pull
 * first, write the version, restore, restart, verify), run as a child: this gate confirmed. */
async function restoreWithItsRelease(input: RestoreInput, progress: ProgressTracker, file: string, r: Releases): Promise<RestoreResult> {
  const result = await progress.step(
    'Restore into staging database',
    () =>
      executeChild<typeof rollback>('rollback', {
        workflowId: childWorkflowId(workflowInfo().workflowId, 'rollback'),
        args: [
          { deployment: input.deployment, backup: file, version: r.backup, yes: true, reason: `restore ${file} with release ${r.backup}` },
        ],
      }),
    (x) => `rolled back to ${x.version} with ${file} (day2 rollback as a child)`,
  );
  for (const step of ['Stop services', 'Swap in restored database', 'Start services', 'Wait for readiness', 'Verify restored data'])
    progress.skip(step, `done by the rollback to ${r.backup}`);
  progress.finish(
    `restored ${file} with its release ${r.backup} (was ${r.running}); previous data kept as ${result.keptAs}${keptCopiesNote(result.kept)}`,
  );
  return { outcome: 'restored', file, keptAs: result.keptAs, checks: result.checks ?? [], kept: result.kept };
}

/** Readiness, then the preflight checks (as restore.sh ends) and the post-restore checks;
 * a failed post-restore check fails the restore. */
async function verifyRestoredStep(
  progress: ProgressTracker,
  { deployment, file }: RestorePlan,
  keptAs: string,
  withPreflight: boolean,
): Promise<{ checks: CheckResult[]; preflight: CheckResult[] }> {
  await progress.step(
    'Wait for readiness',
    () =>
      long.waitForReady.executeWithOptions({ summary: `Wait for ${deployment} to report ready` }, [
        { deployment, leftState: `The restored data (${file}) is live; the previous data is kept as ${keptAs}.` },
      ]),
    (r) => `ready after ${(r.readyAfterMs / 1000).toFixed(1)} s`,
  );
  const { preflight, verify } = await progress.step(
    'Verify restored data',
    async () => ({
      preflight: withPreflight && patched(PATCHES.restorePreflight) ? await preflightChecks(deployment) : [],
      verify: await long.runDeploymentChecks.executeWithOptions({ summary: `Post-restore verification checks of ${deployment}` }, [
        { deployment, set: 'verify' },
      ]),
    }),
    (r) =>
      [preflightSummary(r.preflight), ...r.verify.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`)].filter(Boolean).join(', ') ||
      'no checks configured',
  );
  // The verification checks judge the restored data and fail the restore; the preflight
  // checks judge readiness for the next operation (env file, disk, tools): a failing one is
  // named in the outcome, but the data it restored stays restored.
  const checks = [...preflight.map((c) => ({ ...c, name: `preflight: ${c.name}` })), ...verify];
  const failed = verify.filter((c) => !c.ok);
  if (failed.length) {
    progress.finish(`restored, but verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
    throw failure(
      'VerificationFailed',
      `restored ${file}, but verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}. The previous data is kept as ${keptAs}.`,
    );
  }
  return { checks, preflight };
}

/** `✓ preflight (6 checks)`, or the failed ones by name; nothing when none ran. */
function preflightSummary(checks: CheckResult[]): string {
  if (!checks.length) return '';
  const failed = checks.filter((c) => !c.ok);
  return failed.length ? failed.map((c) => `✗ preflight: ${c.name}`).join(', ') : `✓ preflight (${checks.length} checks)`;
}

/** `; 3 kept copies of replaced data take 1.2 GiB in all`, or nothing when none is known. */
export function keptCopiesNote(kept: KeptCopies | undefined): string {
  if (!kept?.count) return '';
  return `; ${kept.count} kept ${kept.count === 1 ? 'copy' : 'copies'} of replaced data take ${formatBytes(kept.bytes)} in all`;
}
