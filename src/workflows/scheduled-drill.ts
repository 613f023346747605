// What a drill schedule (`day2 schedule drill --cron "0 3 1 * *"`, the runbooks' monthly DR
// test) starts: the drill workflow, as a child under a read-only id of its own, exactly as
// `day2 drill` runs it. A drill never holds the deployment, but one started while another
// operation changes the database (a restore, an upgrade) would test a moving target, so
// the run is skipped, saying why and telling the webhook, as a busy scheduled backup is.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ScheduledDrillInput, ScheduledDrillResult } from '../domain/types';
import { workflowIdOf } from '../domain/operations';
import { quick } from './activity-proxies';
import { drill } from './dr-drill';
import { pgbackrestDrill } from './pgbackrest-drill';
import { notifySkipped } from './notify';
import { skipDetail } from './scheduled-backup';

export async function scheduledDrill(input: ScheduledDrillInput): Promise<ScheduledDrillResult> {
  const { deployment } = input;
  const holder = await quick.operationHolding.executeWithOptions({ summary: `Is another operation running on ${deployment}?` }, [
    { deployment },
  ]);
  if (holder) {
    const reason = `another operation holds ${deployment} (${holder.type}, workflow ${holder.workflowId}: see day2 status ${deployment}); the next scheduled run tries again`;
    await notifySkipped('drill', deployment, skipDetail(input.schedule, reason));
    return { outcome: 'skipped', reason };
  }
  const workflowId = workflowIdOf('drill', deployment, workflowInfo().startTime);
  const result = input.pgbackrest
    ? await executeChild(pgbackrestDrill, {
        workflowId,
        args: [{ deployment, target: { kind: 'latest' as const } }],
        workflowExecutionTimeout: '6 hours',
      })
    : await executeChild(drill, { workflowId, args: [{ ...input.drill, deployment }], workflowExecutionTimeout: '6 hours' });
  return { outcome: 'drilled', workflowId, file: result.file, ok: result.ok };
}
