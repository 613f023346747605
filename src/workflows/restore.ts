// restore.sh as a workflow, safer: the archive is verified before anything destructive;
// the backup is restored into a staging database while the service still runs; the swap
// is one short step that keeps the live database as `<db>_pre_restore_<stamp>`.
import { ActivityCancellationType, ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { failureType } from '../domain/failure-chain';
import { formatBytes } from '../domain/human-bytes';
import type { KeptCopies, RestoreInput, RestoreResult } from '../domain/types';
import { long, quick } from './activity-proxies';
import { endCleanlyOnCancel, uninterruptible } from './cancellation';
import type { Gates } from './gate';
import { beginOperation, compactStamp } from './operation';
import { FETCH_OFFSITE_STEP, fetchOffsiteStep } from './offsite';
import type { ProgressTracker } from './progress';
import { PATCHES } from '../domain/patches';


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

export const CONFIRM_RESTORE_GATE = 'confirm-restore';

export async function restore(input: RestoreInput): Promise<RestoreResult> {
  const steps = input.remote ? [FETCH_OFFSITE_STEP, ...RESTORE_STEPS] : [...RESTORE_STEPS];
  const { progress, gates } = beginOperation('restore', input.deployment, steps);
  // What a cancellation leaves: nothing changed until the restored database is swapped in.
  const swapped: { keptAs?: string } = {};
  return endCleanlyOnCancel(progress, () => restoreSteps(input, progress, gates, swapped), () =>
    swapped.keptAs ? `the backup is live (previous data kept as ${swapped.keptAs}) but was not verified` : 'nothing was changed',
  );
}

async function restoreSteps(input: RestoreInput, progress: ProgressTracker, gates: Gates, swapped: { keptAs?: string }): Promise<RestoreResult> {
  const { deployment } = input;
  const stamp = compactStamp(workflowInfo().startTime);
  // From the bucket: downloaded and verified into the backup directory, then the same path.
  const file = input.remote ? await fetchOffsiteStep(progress, deployment, input.remote) : input.file;
  if (!file) throw ApplicationFailure.create({ type: 'BadInputError', nonRetryable: true, message: 'name the backup to restore, or an off-site copy (--remote)' });

  const manifest = await progress.step(
    'Verify backup',
    () => quick.verifyBackup.executeWithOptions({ summary: `Verify ${file}: manifest checksum and pg_restore --list` }, [{ deployment, file }]),
    (m) => `${m.file}: ${m.tocEntries} TOC entries, taken ${m.createdAt}`,
  );

  if (input.yes) {
    progress.skip('Confirm restore', 'confirmed up front (--yes)');
  } else {
    const decision = await gates.wait('Confirm restore', {
      name: CONFIRM_RESTORE_GATE,
      question: `Replace all data of ${deployment} with ${file} (taken ${manifest.createdAt})? Everything written since is lost (the current database is kept aside).`,
      timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
      defaultOutcome: 'reject',
    });
    if (!decision.approve) {
      progress.finish(`rejected by ${decision.by}: nothing was changed`);
      return { outcome: 'rejected', file, checks: [], reason: decision.reason };
    }
  }

  const live = manifest.database;
  const stagingDb = `${live}_restore_${stamp}`;
  const keepAs = `${live}_pre_restore_${stamp}`;

  const staged = await progress.step(
    'Restore into staging database',
    async () => {
      try {
        // On cancel, wait for pg_restore to be stopped before dropping what it wrote.
        const waitForStop = { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
        await long.stageRestore.executeWithOptions({ summary: `pg_restore --no-owner --no-acl ${file} into ${stagingDb}`, ...waitForStop }, [
          { deployment, file, stagingDb },
        ]);
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

  /** The swap and the in-place restore are all-or-nothing: when one fails, the live
   * database is as it was, so drop the staging copy and bring the service back on it
   * before reporting the failure. */
  const swapOrRecover = async (swap: () => Promise<string>): Promise<string> => {
    try {
      return await swap();
    } catch (err) {
      if (staged) await quick.dropDatabaseIfExists.executeWithOptions({ summary: `Clean up ${stagingDb}` }, [{ deployment, name: stagingDb }]);
      await quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services again on the untouched database` }, [{ deployment }]);
      throw err;
    }
  };

  // Stopped services are started again whatever happens: a cancellation that arrives
  // during these three steps takes effect after them.
  const keptAs = await uninterruptible(async () => {
    await progress.step('Stop services', () =>
      quick.stopServices.executeWithOptions({ summary: `Stop ${deployment}'s API and worker` }, [{ deployment, scope: 'all' }]),
    );

    const kept = await progress.step(
      'Swap in restored database',
      () => swapOrRecover(async () => {
        if (staged) {
          await quick.swapInRestoredDatabase.executeWithOptions(
            { summary: `Terminate connections; rename ${live} → ${keepAs}, ${stagingDb} → ${live}` },
            [{ deployment, stagingDb, keepAs }],
          );
          return keepAs;
        }
        const safetyFile = `${deployment}-pre-restore-${stamp}.dump`;
        await long.restoreInPlace.executeWithOptions({ summary: `Safety dump to ${safetyFile}, then pg_restore --clean into ${live}` }, [
          { deployment, file, safetyFile },
        ]);
        return safetyFile;
      }),
      (previous) => `previous data kept as ${previous}`,
    );
    swapped.keptAs = kept;

    await progress.step('Start services', () =>
      quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services` }, [{ deployment }]),
    );
    return kept;
  });
  await progress.step(
    'Wait for readiness',
    () => long.waitForReady.executeWithOptions({ summary: `Wait for ${deployment} to report ready` }, [
      { deployment, leftState: `The restored data (${file}) is live; the previous data is kept as ${keptAs}.` },
    ]),
    (r) => `ready after ${(r.readyAfterMs / 1000).toFixed(1)} s`,
  );
  const checks = await progress.step(
    'Verify restored data',
    () =>
      long.runDeploymentChecks.executeWithOptions({ summary: `Post-restore verification checks of ${deployment}` }, [
        { deployment, set: 'verify' },
      ]),
    (results) => results.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`).join(', ') || 'no checks configured',
  );
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) {
    progress.finish(`restored, but verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
    throw ApplicationFailure.create({
      type: 'VerificationFailed',
      message: `restored ${file}, but verification failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}. The previous data is kept as ${keptAs}.`,
      nonRetryable: true,
    });
  }
  // Every restore keeps its undo and nothing removes one: say how much is kept by now.
  const kept = patched(PATCHES.countKeptCopies)
    ? await quick.countKeptCopies.executeWithOptions({ summary: `Count the copies of replaced data kept for ${deployment}` }, [{ deployment }])
    : undefined;
  progress.finish(`restored ${file}; previous data kept as ${keptAs}${keptCopiesNote(kept)}`);
  return { outcome: 'restored', file, keptAs, checks, kept };
}

/** `; 3 kept copies of replaced data take 1.2 GiB in all`, or nothing when none is known. */
export function keptCopiesNote(kept: KeptCopies | undefined): string {
  if (!kept?.count) return '';
  return `; ${kept.count} kept ${kept.count === 1 ? 'copy' : 'copies'} of replaced data take ${formatBytes(kept.bytes)} in all`;
}
