// The day2 worker: polls the task queue, runs workflows (sandboxed) and activities (with
// the config), logs JSON through pino, exposes Prometheus metrics when asked, and drains
// in-flight work on SIGTERM/SIGINT before exiting. With metrics on, it first recovers each
// deployment's last successful backup and drill from visibility (last-success-recovery.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type NativeConnectionOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { activityInterceptors } from './activities/interceptors';
import { testPauseHook } from './activities/interceptors/test-pause';
import { payloadCodecsOf } from './codec/data-converter';
import { processSettings, type Day2Config } from './config';
import { recoverLastSuccess } from './last-success-recovery';
import { createLogger } from './logger';
import { packageRootOf, runsFromDist } from './package-root';
import { connectionOptions } from './temporal-connection';

const root = packageRootOf(import.meta.url);
export const WORKFLOWS_PATH = path.join(root, 'src', 'workflows', 'index.ts');
/** `npm run build`'s webpack bundle of src/workflows: the worker run from dist/ loads it
 * instead of bundling the workflows at every start (seconds of CPU, and webpack's memory). */
const PREBUILT_WORKFLOW_BUNDLE = path.join(root, 'dist', 'workflow-bundle.js');

/** DAY2_WORKFLOW_BUNDLE, else the prebuilt bundle when running from dist/, else bundle now. */
export function workflowSource(explicitBundle?: string): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle = explicitBundle || (runsFromDist(import.meta.url) && existsSync(PREBUILT_WORKFLOW_BUNDLE) ? PREBUILT_WORKFLOW_BUNDLE : undefined);
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH };
}

let runtimeInstalled = false;

function installRuntime(logLevel: string, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const logger = createLogger('temporal', logLevel);
  Runtime.install({
    logger: new DefaultLogger(logLevel.toUpperCase() as LogLevel, (entry) => {
      const level = entry.level.toLowerCase() as 'info';
      (logger[level] ?? logger.info).call(logger, entry.meta ?? {}, entry.message);
    }),
    ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
  });
}

/** `configFile`: where `config` came from; the worker reloads it when it changes. */
export async function createWorker(config: Day2Config, configFile?: string): Promise<Worker> {
  const settings = processSettings();
  installRuntime(settings.logLevel, settings.metricsAddress);
  const logger = createLogger('day2-worker', settings.logLevel);
  const connection = await NativeConnection.connect(connectionOptions(config) as NativeConnectionOptions);
  const pause = testPauseHook(settings.testPause, settings.testPauseSeconds, logger);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowSource(settings.workflowBundle),
    activities: createActivities({ config, logger, configFile }, pause),
    interceptors: { activity: activityInterceptors(pause) },
    // The payload codec (temporal.codec) runs here, outside the sandbox: same bundle either way.
    dataConverter: { payloadCodecs: payloadCodecsOf(config) },
    // Let a running pg_dump finish on SIGTERM; anything longer resumes on the next worker.
    shutdownGraceTime: '20 seconds',
    // After a worker dies, its workflows' tasks (and `day2 status` queries) wait this long on
    // its sticky queue before any worker takes them. Replaying a day2 history takes
    // milliseconds, so fail over sooner than the 10 s default.
    stickyQueueScheduleToStartTimeout: '3 seconds',
  });
}

/** Runs until SIGTERM/SIGINT (handled by the Temporal runtime), then drains. */
export async function runWorker(config: Day2Config, configFile?: string): Promise<void> {
  const worker = await createWorker(config, configFile);
  const settings = processSettings();
  const logger = createLogger('day2-worker', settings.logLevel);
  // Before polling, so no run this worker completes can be overwritten by an older value;
  // bounded, so a slow visibility store never keeps the worker from working.
  if (settings.metricsAddress) {
    await Promise.race([
      recoverLastSuccess(worker.client!, config, logger).catch((err: Error) => logger.warn({ err: err.message }, 'last-success recovery failed')),
      new Promise((r) => setTimeout(r, 15_000).unref()),
    ]);
  }
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker running');
  await worker.run();
  logger.info('worker stopped');
}
