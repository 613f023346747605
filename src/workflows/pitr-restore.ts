// `day2 restore --to-time | --to-lsn | --latest` on a pgBackRest deployment. The restore is
// made in a new data directory while the service runs, started privately and checked;
// only then are the services and the cluster stopped for the swap (two renames), and the
// previous data directory is kept as `<dataDir>.pre-restore-<stamp>`.
import { patched, workflowInfo } from '@temporalio/workflow';
import { PATCHES } from '../domain/patches';
import { GATES } from '../domain/gate-names';
import type { PitrRestoreInput, PitrRestoreResult } from '../domain/pgbackrest';
import { describeTarget } from '../domain/restore-target';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible, type WhatCancellationLeaves } from './cancellation';
import type { Gates } from './gate';
import { beginOperation, compactStamp } from './operation';
import type { ProgressTracker } from './progress';
import { preflightChecks, preflightNote } from './release-checks';

export const PITR_RESTORE_STEPS = [
  'Plan restore',
  'Confirm restore',
  'Restore into a new data directory',
  'Check the restored copy',
  'Stop services',
  'Stop PostgreSQL',
  'Swap data directories',
  'Start PostgreSQL',
  'Start services',
  'Wait for readiness',
  'Preflight checks',
] as const;

export async function pitrRestore(input: PitrRestoreInput): Promise<PitrRestoreResult> {
  const { progress, gates } = beginOperation('restore', input.deployment, [...PITR_RESTORE_STEPS]);
  const leaves = cancellationLeaves('nothing was changed');
  return endCleanlyOnCancel(progress, leaves, () => steps(input, progress, gates, leaves));
}

async function steps(
  input: PitrRestoreInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<PitrRestoreResult> {
  const { deployment, target } = input;
  const stamp = compactStamp(workflowInfo().startTime);
  const what = describeTarget(target);
  const plan = await progress.step(
    'Plan restore',
    () =>
      long.planPitrRestore.executeWithOptions({ summary: `Archive the current WAL; find the backup that reaches ${what}` }, [
        { deployment, target },
      ]),
    (p) => `from ${p.backup.label} (${p.backup.type}, consistent at ${p.backup.stoppedAt}) + WAL to ${what}`,
  );
  if (input.yes) {
    progress.skip('Confirm restore', `confirmed up front (--yes); loses ${plan.loses}`);
  } else {
    const decision = await gates.wait('Confirm restore', {
      name: GATES.confirmRestore,
      question: `Restore ${deployment}'s whole cluster to ${what} (from backup ${plan.backup.label})? Lost: ${plan.loses}. The current data directory is kept aside.`,
      timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
      defaultOutcome: 'reject',
    });
    if (!decision.approve) {
      progress.finish(`rejected by ${decision.by}: nothing was changed`);
      return { outcome: 'rejected', target, reason: decision.reason };
    }
  }

  // A copy that cannot be made or checked is removed; the live cluster was never touched.
  const discardOnFailure = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      await uninterruptible(() =>
        quick.discardPitrRestore.executeWithOptions({ summary: 'Remove the restored copy' }, [{ deployment, stamp }]),
      );
      throw err;
    }
  };
  const { newDir } = await progress.step(
    'Restore into a new data directory',
    () =>
      discardOnFailure(() =>
        long.restorePitrIntoNewDir.executeWithOptions({ summary: `pgbackrest restore ${plan.args.join(' ')} into a new data directory` }, [
          { deployment, args: plan.args, stamp },
        ]),
      ),
    (r) => `${r.newDir}${r.reused ? ' (reused)' : ''}`,
  );
  const sums = await progress.step(
    'Check the restored copy',
    () =>
      discardOnFailure(() =>
        long.verifyPitrRestore.executeWithOptions(
          { summary: `Start ${newDir} on a private port, paused at the target; read every table` },
          [{ deployment, stamp }],
        ),
      ),
    (s) =>
      `${Object.keys(s).length} tables read back: ${Object.entries(s)
        .map(([t, v]) => `${t} ${v.split(' ')[0]}`)
        .join(', ')}`,
  );

  // From here the services are down: whatever happens they are started again, on the
  // restored cluster if the swap happened, on the untouched one otherwise.
  const keptAs = await uninterruptible(async () => {
    await progress.step('Stop services', () =>
      quick.stopServices.executeWithOptions({ summary: `Stop ${deployment}'s API and worker` }, [{ deployment, scope: 'all' }]),
    );
    let kept: string | undefined;
    try {
      await progress.step('Stop PostgreSQL', () =>
        long.stopLiveCluster.executeWithOptions({ summary: 'pg_ctl stop -m fast (the live cluster)' }, [{ deployment }]),
      );
      kept = await progress.step(
        'Swap data directories',
        async () =>
          (
            await quick.swapInRestoredDataDir.executeWithOptions(
              { summary: `Rename the live data directory aside, ${newDir} into its place` },
              [{ deployment, stamp }],
            )
          ).keptAs,
        (k) => `previous data directory kept as ${k}`,
      );
      leaves.now = `the restored data directory is live (previous kept as ${kept})`;
      await progress.step(
        'Start PostgreSQL',
        () =>
          long.startLiveCluster.executeWithOptions(
            { summary: 'pg_ctl start the restored cluster; wait for it to reach the target and promote' },
            [{ deployment }],
          ),
        (r) => `accepting writes after ${(r.promotedAfterMs / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      if (!kept) {
        // Not swapped: the live data directory is where it was; bring it and the service back
        // (the verified copy stays for a look: day2 never deletes what it cannot account for).
        await long.startLiveCluster.executeWithOptions({ summary: 'Start the untouched live cluster again' }, [{ deployment }]);
      }
      await quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services again` }, [{ deployment }]);
      throw err;
    }
    await progress.step('Start services', () =>
      quick.startServices.executeWithOptions({ summary: `Start ${deployment}'s services` }, [{ deployment }]),
    );
    return kept;
  });
  await progress.step(
    'Wait for readiness',
    () =>
      long.waitForReady.executeWithOptions({ summary: `Wait for ${deployment} to report ready` }, [
        { deployment, leftState: `The cluster is restored to ${what}; the previous data directory is kept as ${keptAs}.` },
      ]),
    (r) => `ready after ${(r.readyAfterMs / 1000).toFixed(1)} s`,
  );
  const preflightNote = await preflightOnRestoredData(input, progress);
  const tables = Object.fromEntries(Object.entries(sums).map(([t, v]) => [t, Number(/^rows=(\d+)/.exec(v)?.[1] ?? NaN)]));
  progress.finish(`restored to ${what} from ${plan.backup.label}; previous data directory kept as ${keptAs}${preflightNote}`);
  return { outcome: 'restored', target, backup: plan.backup.label, keptAs, tables };
}

/** The preflight checks on the restored cluster, as restore.sh ends: what a failing one
 * says goes into the outcome (fix it before the next operation), but the restored data stays
 * restored. A rollback runs them itself once its release is verified. */
async function preflightOnRestoredData(input: PitrRestoreInput, progress: ProgressTracker): Promise<string> {
  if (input.preflightByCaller || !patched(PATCHES.restorePreflight)) {
    progress.skip(
      'Preflight checks',
      input.preflightByCaller ? 'run by the rollback once its release is verified' : 'not run by this restore',
    );
    return '';
  }
  const checks = await progress.step('Preflight checks', () => preflightChecks(input.deployment));
  progress.showChecks('Preflight checks', checks);
  return preflightNote(checks);
}
