// A rollback of a pgBackRest deployment: instead of restoring a dump, the whole cluster is
// recovered to a point (an upgrade's recovery point just before its migrations, or an LSN
// given by hand) by the point-in-time restore workflow as a child. Same order and safety as
// the dump rollback: the release is pulled before anything changes, the version is written
// before the services restart on the recovered data, and a restore that fails before its
// swap puts the previous release back.
import { executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { GATES } from '../domain/gate-names';
import type { PreUpgradePoint } from '../domain/pgbackrest';
import type { RollbackInput, RollbackResult } from '../domain/release-types';
import { TARGET_VERSION } from '../domain/search-attributes';
import { isVersion } from '../domain/version';
import { childWorkflowId } from '../domain/workflow-ids';
import { long, quick } from './activity-proxies';
import { uninterruptible, watchCancellation, type WhatCancellationLeaves } from './cancellation';
import { failedActivityOfChild, humanDuration, refuse } from './failures';
import type { Gates } from './gate';
import { pitrRestore } from './pitr-restore';
import type { ProgressTracker } from './progress';
import { pullRollbackRelease, switchRelease } from './rollback-steps';

interface Point {
  lsn: string;
  /** When it was written, if known (an upgrade's point): what is lost is counted from here. */
  at?: string;
  version?: string;
  source: string;
}

export async function rollbackToPoint(
  input: RollbackInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<RollbackResult> {
  const { deployment } = input;
  const cancel = watchCancellation();
  const point = await progress.step(
    'Locate backup',
    async () => {
      const p = await pointOf(input);
      const plan = await long.planPitrRestore.executeWithOptions({ summary: `Find the pgBackRest backup that reaches LSN ${p.lsn}` }, [
        { deployment, target: { kind: 'lsn', lsn: p.lsn } },
      ]);
      return { ...p, plan };
    },
    (p) => `LSN ${p.lsn} (${p.source}), from backup ${p.plan.backup.label} + WAL`,
  );
  const { from, target } = await progress.step(
    'Resolve target version',
    async () => {
      const running = await quick.detectRunningVersion.executeWithOptions({ summary: `Read ${deployment}'s running version` }, [
        { deployment },
      ]);
      const version = input.version ?? point.version;
      if (!version) refuse(`cannot tell which release ran at LSN ${point.lsn}: pass --version`);
      if (!isVersion(version)) refuse(`${JSON.stringify(version)} is not a release version: pass --version`);
      return { from: running, target: version };
    },
    (r) => `${r.from ?? 'unknown'} → ${r.target}`,
  );
  upsertSearchAttributes([{ key: TARGET_VERSION, value: target }]);
  const lostSince = () => (point.at ? Math.round((Date.now() - Date.parse(point.at)) / 1000) : 0);
  const lost = point.at ? `the last ${humanDuration(lostSince())}` : point.plan.loses;
  const base = { from, version: target, backup: `${point.plan.backup.label} + WAL to LSN ${point.lsn}`, backupTakenAt: point.at ?? '' };

  if (input.yes) {
    progress.skip('Confirm rollback', input.reason ? `decided by the upgrade: ${input.reason}` : 'confirmed up front (--yes)');
  } else {
    const decision = await gates.wait('Confirm rollback', {
      name: GATES.confirmRollback,
      question:
        `Roll ${deployment} back from ${from ?? 'an unknown release'} to ${target} by recovering the whole cluster to LSN ${point.lsn} ` +
        `(${point.source})? Everything written after it is lost: ${lost}. The current data directory is kept aside.`,
      timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
      defaultOutcome: 'reject',
    });
    if (!decision.approve) {
      progress.finish(`rejected by ${decision.by}: nothing was changed`);
      return { ...base, lostSeconds: 0, outcome: 'rejected', reason: decision.reason };
    }
  }

  const pulled = await pullRollbackRelease(progress, deployment, target);
  const { lostSeconds, restored } = await uninterruptible(() =>
    switchRelease(progress, deployment, target, lostSince, {
      run: () => recoverAndRestart(input, point.lsn, from, progress),
      describe: (r) =>
        `recovered to LSN ${point.lsn} from ${r.backup}; previous data directory kept as ${r.keptAs}; services restarted and ready`,
    }),
  );

  const done = `rolled back to ${target} by recovering the cluster to LSN ${point.lsn}; ${lost} of changes are gone (previous data directory kept as ${restored.keptAs})`;
  if (cancel.requested) {
    leaves.now = `the rollback had begun changing ${deployment}, so it was finished first: ${done}`;
    throw cancel.requested;
  }
  progress.finish(done);
  return { ...base, lostSeconds, outcome: 'rolled-back', keptAs: restored.keptAs, warning: pulled.warning, reason: input.reason };
}

/** The LSN given (by the upgrade or --to-lsn), else the last upgrade's recorded point. */
async function pointOf(input: RollbackInput): Promise<Point> {
  const given = input.pitr ?? {};
  if (given.lsn)
    return { lsn: given.lsn, at: given.at, version: given.version, source: given.at ? 'the pre-upgrade recovery point' : '--to-lsn' };
  const recorded: PreUpgradePoint | null = await quick.readPreUpgradePoint.executeWithOptions(
    { summary: 'Read .pre-upgrade-point.json (the last upgrade’s recovery point)' },
    [{ deployment: input.deployment }],
  );
  if (!recorded)
    refuse(`no upgrade of ${input.deployment} recorded a recovery point: pass --to-lsn (and --version), or use day2 restore --to-time`);
  return {
    lsn: recorded.lsn,
    at: recorded.at,
    version: recorded.version,
    source: `the recovery point before upgrade ${recorded.workflowId}`,
  };
}

/** Steps of the restore child after which the live data directory is still the old one. */
const BEFORE_SWAP = new Set([
  'planPitrRestore',
  'restorePitrIntoNewDir',
  'verifyPitrRestore',
  'discardPitrRestore',
  'stopServices',
  'stopLiveCluster',
]);

async function recoverAndRestart(input: RollbackInput, lsn: string, from: string | null, progress: ProgressTracker) {
  const { deployment } = input;
  try {
    return await executeChild(pitrRestore, {
      workflowId: childWorkflowId(workflowInfo().workflowId, 'restore'),
      args: [{ deployment, target: { kind: 'lsn', lsn }, yes: true, preflightByCaller: true }],
    });
  } catch (err) {
    const failedAt = failedActivityOfChild(err);
    if (from && failedAt && BEFORE_SWAP.has(failedAt)) {
      // The cluster was not replaced: the release it runs must be the one it ran.
      await quick.writeReleaseVersion.executeWithOptions({ summary: `Undo: write ${from} back` }, [{ deployment, version: from }]);
      await quick.startServices.executeWithOptions({ summary: `Make sure ${deployment} runs ${from} again` }, [{ deployment }]);
      progress.mark('Write release version', 'done', `undone: the recovery failed before replacing the data directory; back to ${from}`);
    }
    throw err;
  }
}
