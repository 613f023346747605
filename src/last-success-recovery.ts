// A worker that starts (or restarts) does not know when each deployment's backup and drill
// last succeeded: the workflows set `day2_last_success_timestamp_seconds` as they succeed
// (workflows/notify.ts), and a gauge lives only as long as the process. So at start the
// worker asks Temporal's visibility for the newest successful run of each and sets the
// same gauge, with the same tags the SDK gives a workflow's metrics (namespace, taskQueue,
// workflowType), on the Temporal runtime's meter: one series, one Prometheus endpoint,
// whether the value came from a run this process saw or from history.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import type { Day2Config } from './config';
import { LAST_SUCCESS_GAUGE, lastSuccessSeconds } from './domain/staleness';
import type { BackupResult, DrillResult, Operation } from './domain/types';
import type { Logger } from './logger';

/** How to find an operation's successful runs in visibility. */
export interface LastSuccessSource {
  operation: string;
  /** The workflow whose success sets the gauge (its type is the gauge's workflowType tag). */
  workflowType: string;
  /** Day2Operation of those runs. */
  searchOperation: Operation;
  /** A completed run is not always a success (a drill whose checks failed completes). */
  succeeded?: (client: Client, run: WorkflowExecutionInfo) => Promise<boolean>;
}

export const LAST_SUCCESS_SOURCES: LastSuccessSource[] = [
  // A backup that completes is a verified local backup (a failed one throws), also when its
  // off-site copy failed: backup.ts's judge must then say `succeeded: ['backup']` so the
  // live gauge agrees (workflows/notify.ts, Verdict).
  { operation: 'backup', workflowType: 'backup', searchOperation: 'backup' },
  {
    operation: 'offsite',
    workflowType: 'backup',
    searchOperation: 'backup',
    succeeded: async (client, run) =>
      (await client.workflow.getHandle<() => Promise<BackupResult>>(run.workflowId, run.runId).result()).offsite?.ok === true,
  },
  {
    operation: 'drill',
    workflowType: 'drill',
    searchOperation: 'drill',
    succeeded: async (client, run) => (await client.workflow.getHandle<() => Promise<DrillResult>>(run.workflowId, run.runId).result()).ok,
  },
];

/** Runs looked at per deployment and operation: enough to pass a string of failed drills. */
const LOOK_BACK = 50;

export interface RecoveredValue {
  deployment: string;
  operation: string;
  seconds: number;
  workflowId: string;
}

/** Sets the gauge for every deployment and source that has a successful run; returns what
 * it set. A visibility error is logged and skipped: the workflows set the gauge anyway. */
export async function recoverLastSuccess(
  client: Client,
  config: Day2Config,
  logger: Logger,
  sources = LAST_SUCCESS_SOURCES,
): Promise<RecoveredValue[]> {
  const meter = Runtime.instance().metricMeter.withTags({ namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue });
  const recovered: RecoveredValue[] = [];
  for (const deployment of Object.keys(config.deployments)) {
    for (const source of sources) {
      try {
        const newest = await newestSuccess(client, deployment, source);
        if (!newest) continue;
        const seconds = lastSuccessSeconds(newest.startTime);
        meter
          .createGauge(LAST_SUCCESS_GAUGE.name, 'int', '', LAST_SUCCESS_GAUGE.description)
          .withTags({ workflowType: source.workflowType, deployment, operation: source.operation })
          .set(seconds);
        recovered.push({ deployment, operation: source.operation, seconds, workflowId: newest.workflowId });
      } catch (err) {
        logger.warn(
          { deployment, operation: source.operation, err: (err as Error).message },
          'could not recover the last success from visibility',
        );
      }
    }
  }
  logger.info({ recovered }, 'last successes recovered from visibility');
  return recovered;
}

async function newestSuccess(client: Client, deployment: string, source: LastSuccessSource): Promise<WorkflowExecutionInfo | undefined> {
  const query = `Day2Deployment = "${deployment}" AND Day2Operation = "${source.searchOperation}" AND WorkflowType = "${source.workflowType}" AND ExecutionStatus = "Completed"`;
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of client.workflow.list({ query, pageSize: LOOK_BACK })) {
    runs.push(run);
    if (runs.length >= LOOK_BACK) break;
  }
  // Visibility's order differs between stores: sort by start, newest first.
  runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  for (const run of runs) {
    if (!source.succeeded || (await source.succeeded(client, run))) return run;
  }
  return undefined;
}
