// What a failed upgrade is undone to, for either backup method: the pre-upgrade dump
// (pg_dump), or with pgBackRest a recovery point written just before the first migration,
// reached from a pgBackRest backup taken before anything stopped. The upgrade only asks
// this module what to take, what to call it and how a rollback gets back to it.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { PreUpgradePoint } from '../domain/pgbackrest';
import type { RollbackInput, UpgradeInput } from '../domain/release-types';
import { childWorkflowId } from '../domain/workflow-ids';
import { quick } from './activity-proxies';
import { backup } from './backup';
import { pgbackrestBackup } from './pgbackrest-backup';
import type { ProgressTracker } from './progress';

export const PRE_UPGRADE_BACKUP_STEP = 'Pre-upgrade backup';
export const MARK_POINT_STEP = 'Mark recovery point';

export interface UndoPoint {
  /** The upgrade result's `backup`: the dump's file, or the pgBackRest backup and point. */
  name: string;
  /** What a rollback loses everything after (ISO). */
  takenAt: string;
  /** For the gate's question: "restoring X" / "recovering the cluster to …". */
  how: string;
  /** The rollback child's input beyond deployment and version. */
  rollback: Pick<RollbackInput, 'backup' | 'pitr'>;
  /** The arguments of the `day2 rollback` that undoes the upgrade by hand. */
  hint: string;
  /** pgBackRest: the backup the point is reached from; a recovery point is marked after the worker stops. */
  pgbackrestLabel?: string;
}

/** The pre-upgrade backup, as a child workflow of either method. */
export async function takePreUpgradeBackup(input: UpgradeInput, from: string, progress: ProgressTracker): Promise<UndoPoint> {
  const { deployment } = input;
  const workflowId = childWorkflowId(workflowInfo().workflowId, 'backup');
  if (input.pgbackrest) {
    const r = await progress.step(
      PRE_UPGRADE_BACKUP_STEP,
      () =>
        executeChild(pgbackrestBackup, {
          workflowId,
          args: [{ deployment, type: input.pgbackrest!.type, refuseRestart: true }],
        }),
      (b) => `pgBackRest ${b.backup!.type} backup ${b.backup!.label}, consistent at LSN ${b.backup!.lsnStop}`,
    );
    const b = r.backup!;
    // Until the point is marked (the worker's stop failed, say), the backup's end is the undo.
    return pitrUndo({ lsn: b.lsnStop, at: b.stoppedAt, label: b.label, version: from, what: `the end of backup ${b.label}` });
  }
  const r = await progress.step(
    PRE_UPGRADE_BACKUP_STEP,
    () => executeChild(backup, { workflowId, args: [{ deployment, preUpgradeVersion: from }] }),
    (b) => `${b.file} (pre-upgrade version ${from} recorded in its manifest and .pre-upgrade-version)`,
  );
  return {
    name: r.file,
    takenAt: r.manifest.createdAt,
    how: `restoring ${r.file}`,
    rollback: { backup: r.file },
    hint: `--backup ${r.file} --version ${from}`,
  };
}

/** pgBackRest only: once the worker is stopped, the exact point before the first migration. */
export async function markPreUpgradePoint(
  input: UpgradeInput,
  from: string,
  undo: UndoPoint,
  step: <T>(name: typeof MARK_POINT_STEP, fn: () => Promise<T>, describe: (r: T) => string) => Promise<T>,
): Promise<UndoPoint> {
  const { deployment } = input;
  const backupLabel = undo.pgbackrestLabel;
  if (!backupLabel) return undo;
  const point: PreUpgradePoint = await step(
    MARK_POINT_STEP,
    () =>
      quick.markPreUpgradePoint.executeWithOptions({ summary: `pg_create_restore_point: where a rollback of this upgrade recovers to` }, [
        { deployment, workflowId: workflowInfo().workflowId, version: from, backupLabel },
      ]),
    (p) => `LSN ${p.lsn} at ${p.at} (from backup ${p.backupLabel})`,
  );
  return pitrUndo({
    lsn: point.lsn,
    at: point.at,
    label: backupLabel,
    version: from,
    what: 'the recovery point just before the migrations',
  });
}

function pitrUndo(p: { lsn: string; at: string; label: string; version: string; what: string }): UndoPoint {
  return {
    name: `pgBackRest ${p.label}, LSN ${p.lsn}`,
    takenAt: p.at,
    how: `recovering the cluster to ${p.what} (LSN ${p.lsn})`,
    rollback: { pitr: { lsn: p.lsn, version: p.version, at: p.at } },
    hint: `--to-lsn ${p.lsn} --version ${p.version}`,
    pgbackrestLabel: p.label,
  };
}
