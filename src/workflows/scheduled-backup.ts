// What a backup schedule (`day2 schedule backup --every 6h`) starts. Temporal Schedules give
// each run an id of their own, so the run does not hold the deployment itself: it starts
// the backup workflow as a child under the deployment's single mutating id. When another
// operation holds that id (an upgrade, a restore waiting at its gate), Temporal refuses the
// child and this run is skipped, saying why (and telling the webhook); the next scheduled
// run tries again. An upgrade takes its own pre-upgrade backup, so nothing is lost by skipping.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, patched, workflowInfo } from '@temporalio/workflow';
import type { ScheduledBackupInput, ScheduledBackupResult } from '../domain/types';
import { workflowIdOf } from '../domain/operations';
import { backup } from './backup';
import { pgbackrestBackup } from './pgbackrest-backup';
import { notifySkipped } from './notify';
import { PATCHES } from '../domain/patches';

export async function scheduledBackup(input: ScheduledBackupInput): Promise<ScheduledBackupResult> {
  const { deployment } = input;
  const workflowId = workflowIdOf('backup', deployment, workflowInfo().startTime);
  try {
    if (input.pgbackrestType) {
      // The first pgBackRest backup waits at restart-for-archiving: take it by hand.
      const r = await executeChild(pgbackrestBackup, { workflowId, args: [{ deployment, type: input.pgbackrestType }] });
      return r.backup
        ? { outcome: 'backed-up', file: r.backup.label }
        : { outcome: 'skipped', reason: `rejected: ${r.reason ?? 'the restart for archiving was not approved'}` };
    }
    const result = await executeChild(backup, { workflowId, args: [{ deployment, keep: input.keep }] });
    return { outcome: 'backed-up', file: result.file };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const reason = `another operation holds ${deployment} (workflow ${workflowId}: see day2 status ${deployment}); the next scheduled run tries again`;
    // Runs skipped before skips were notified replay without the notice.
    if (patched(PATCHES.notifySkippedSchedule)) await notifySkipped('backup', deployment, skipDetail(input.schedule, reason));
    return { outcome: 'skipped', reason };
  }
}

export const skipDetail = (schedule: string | undefined, reason: string) =>
  `scheduled run${schedule ? ` (${schedule})` : ''} skipped: ${reason}`;
