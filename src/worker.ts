// The day2 worker: polls the task queue, runs workflows (sandboxed) and activities (with
// the config), logs JSON through pino, exposes Prometheus metrics when asked, and drains
// in-flight work on SIGTERM/SIGINT before exiting. With metrics on, it first recovers each
// deployment's last successful backup and drill from visibility (last-success-recovery.ts).
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type NativeConnectionOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { activityInterceptors } from './activities/interceptors';
import { testPauseHook } from './activities/interceptors/test-pause';
import { payloadCodecsOf } from './codec/data-converter';
import { ConfigError, processSettings, type Day2Config } from './config';
import { hostTaskQueue, LOCAL_HOST } from './domain/hosts';
import { recoverLastSuccess } from './last-success-recovery';
import { createLogger } from './logger';
import { packageRootOf, runsFromDist } from './package-root';
import { connectionOptions } from './temporal-connection';

const root = packageRootOf(import.meta.url);
export const WORKFLOWS_PATH = path.join(root, 'src', 'workflows', 'index.ts');
/** Workflow interceptors every bundle includes (host routing: src/workflows/host-routing.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES = [path.join(root, 'src', 'workflows', 'host-routing.ts')];
/** `npm run build`'s webpack bundle of src/workflows: the worker run from dist/ loads it
 * instead of bundling the workflows at every start (seconds of CPU, and webpack's memory). */
const PREBUILT_WORKFLOW_BUNDLE = path.join(root, 'dist', 'workflow-bundle.js');

/** DAY2_WORKFLOW_BUNDLE, else the prebuilt bundle when running from dist/, else bundle now. */
export function workflowSource(explicitBundle?: string): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const bundle =
    explicitBundle || (runsFromDist(import.meta.url) && existsSync(PREBUILT_WORKFLOW_BUNDLE) ? PREBUILT_WORKFLOW_BUNDLE : undefined);
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH };
}

export interface WorkerRole {
  /** Serve this host's activities (`day2 worker --host NAME`); default: `local`. */
  host?: string;
  /** Also run the workflows (the control queue), as the default worker does. */
  workflows?: boolean;
}

/** Why a deployment's files are out of this host's reach, or undefined when they are not. */
function unreachable(d: Day2Config['deployments'][string]): string | undefined {
  try {
    accessSync(d.envFile, constants.R_OK | constants.W_OK);
  } catch {
    return `env file ${d.envFile} is missing or not writable`;
  }
  // The first backup creates its directory; the directory it goes in must be here already.
  if (!existsSync(d.backup.dir) && !existsSync(path.dirname(d.backup.dir)))
    return `backup directory ${d.backup.dir} and its parent do not exist`;
  return undefined;
}

/** A host worker refuses to start when none of its deployments' files are here: it would take
 * their activities and fail every one. Some out of reach is a warning. */
export function checkHostReach(config: Day2Config, host: string): { served: string[]; unreachable: string[] } {
  const mine = Object.entries(config.deployments).filter(([, d]) => d.host === host);
  if (mine.length === 0) {
    throw new ConfigError(
      `no deployment in day2.yaml is on host ${host} — hosts named there: ${[...new Set(Object.values(config.deployments).map((d) => d.host))].join(', ')}`,
    );
  }
  const problems = mine.map(([name, d]) => [name, unreachable(d)] as const).filter(([, why]) => why);
  if (problems.length === mine.length) {
    throw new ConfigError(
      `this machine cannot reach any deployment of host ${host}: ${problems.map(([n, why]) => `${n}: ${why}`).join('; ')} — ` +
        `run \`day2 worker --host ${host}\` on that host, or fix the paths in day2.yaml`,
    );
  }
  return {
    served: mine.filter(([n]) => !problems.some(([p]) => p === n)).map(([n]) => n),
    unreachable: problems.map(([n, why]) => `${n}: ${why}`),
  };
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
export async function createWorker(config: Day2Config, configFile?: string, role: WorkerRole = {}): Promise<Worker> {
  const settings = processSettings();
  installRuntime(settings.logLevel, settings.metricsAddress);
  const logger = createLogger('day2-worker', settings.logLevel);
  const connection = await NativeConnection.connect(connectionOptions(config) as NativeConnectionOptions);
  const pause = testPauseHook(settings.testPause, settings.testPauseSeconds, logger);
  const hostQueue = hostTaskQueue(config.temporal.taskQueue, role.host);
  const source = workflowSource(settings.workflowBundle);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: hostQueue ?? config.temporal.taskQueue,
    // A host's queue carries only activities; the control queue runs the workflows.
    ...(hostQueue ? {} : source),
    activities: createActivities({ config, logger, configFile }, pause),
    interceptors: {
      activity: activityInterceptors(pause),
      ...(!hostQueue && 'workflowsPath' in source ? { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } : {}),
    },
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

/** Runs until SIGTERM/SIGINT (handled by the Temporal runtime), then drains. With a host
 * other than `local`, serves that host's activities, and the workflows too if asked. */
export async function runWorker(config: Day2Config, configFile?: string, role: WorkerRole = {}): Promise<void> {
  const settings = processSettings();
  const logger = createLogger('day2-worker', settings.logLevel);
  const host = role.host ?? LOCAL_HOST;
  if (host !== LOCAL_HOST) {
    const reach = checkHostReach(config, host);
    if (reach.unreachable.length) logger.warn({ host, unreachable: reach.unreachable }, 'some deployments of this host are out of reach');
    const hostWorker = await createWorker(config, configFile, { host });
    logger.info({ host, taskQueue: hostTaskQueue(config.temporal.taskQueue, host), deployments: reach.served }, 'host worker running');
    const control = role.workflows ? runWorker(config, configFile, {}) : Promise.resolve();
    await Promise.all([hostWorker.run(), control]);
    return;
  }
  const worker = await createWorker(config, configFile);
  // Before polling, so no run this worker completes can be overwritten by an older value;
  // bounded, so a slow visibility store never keeps the worker from working.
  if (settings.metricsAddress) {
    await Promise.race([
      recoverLastSuccess(worker.client!, config, logger).catch((err: Error) =>
        logger.warn({ err: err.message }, 'last-success recovery failed'),
      ),
      new Promise((r) => setTimeout(r, 15_000).unref()),
    ]);
  }
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker running');
  await worker.run();
  logger.info('worker stopped');
}
