// start / stop / status of the API and the worker, as detached processes tracked by pidfiles.
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LedgerError } from '../errors';
import { healthPid } from '../health-probe';
import {
  logTail,
  processRunning,
  readPidfile,
  removePidfile,
  sleep,
  spawnDetached,
  terminate,
  writePidfile,
  type DetachedChild,
} from '../process-control';
import type { RunDir, ServiceName } from '../run-dir';
import { loadSettings } from '../settings';
import { emitJson, say } from './output';

/** Defined (true) only in a build of the ledger (scripts/ledger-build.ts bundles ctl,
 * server and worker side by side): the services then start from the built files, without
 * compiling TypeScript at every start. */
declare const LEDGER_BUILD: boolean | undefined;
const BUILT = typeof LEDGER_BUILD !== 'undefined' && LEDGER_BUILD;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC_DIR = path.resolve(HERE, '..');
/** Children run from the repository root, where tsx and the dependencies are installed. */
const REPO_ROOT = path.resolve(SRC_DIR, '../../..');
/** Resolved here, so the caller's working directory does not matter. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const ENTRY: Record<ServiceName, string> = BUILT
  ? { api: path.join(HERE, 'server.mjs'), worker: path.join(HERE, 'worker.mjs') }
  : { api: path.join(SRC_DIR, 'server.ts'), worker: path.join(SRC_DIR, 'worker.ts') };
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export function parseServices(value: string | undefined): ServiceName[] {
  if (value === undefined || value === 'all') return ['api', 'worker'];
  if (value === 'api' || value === 'worker') return [value];
  throw new LedgerError(`--service must be api, worker or all, got ${value}`);
}

/** What identifies our process in /proc/<pid>/cmdline: its entry file and env file. */
function marks(service: ServiceName, envFile: string): string[] {
  return [ENTRY[service], canonicalPath(envFile)];
}

/** The same file reached by another path (relative, symlinked) must still match. */
function canonicalPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

export function serviceStatus(run: RunDir, service: ServiceName, envFile: string): { running: boolean; pid: number | null } {
  const pidfile = run.pidfile(service);
  const pid = readPidfile(pidfile);
  if (pid !== undefined && processRunning(pid, marks(service, envFile))) return { running: true, pid };
  if (pid !== undefined) removePidfile(pidfile); // stale: the process is gone
  return { running: false, pid: null };
}

export async function startServices(run: RunDir, envFile: string, services: ServiceName[]): Promise<void> {
  for (const service of services) await startService(run, envFile, service);
}

async function startService(run: RunDir, envFile: string, service: ServiceName): Promise<void> {
  const status = serviceStatus(run, service, envFile);
  if (status.running) return say(`${service} already running (pid ${status.pid})`);
  const port = service === 'api' ? loadSettings(envFile).port : undefined;
  const logFile = run.logFile(service);
  const loader = BUILT ? [] : ['--import', TSX_LOADER];
  const spawned = spawnDetached(process.execPath, [...loader, ENTRY[service], '--env-file', canonicalPath(envFile)], {
    cwd: BUILT ? HERE : REPO_ROOT,
    logFile,
  });
  const pid = spawned.child.pid;
  if (pid === undefined) throw new LedgerError(`${service} could not be spawned`);
  writePidfile(run.pidfile(service), pid);

  const isUp =
    port !== undefined
      ? async () => (await healthPid(port, 500)) === pid
      : async () => logTail(logFile, spawned.logOffset, 50).some((line) => isWorkerStartedLine(line, pid));
  const outcome = await waitUntilUp(spawned, isUp);
  if (outcome === 'up') return say(`${service} started (pid ${pid}, log ${logFile})`);
  if (outcome === 'timeout') await terminate(pid, marks(service, envFile), STOP_TIMEOUT_MS);
  removePidfile(run.pidfile(service));
  const tail = logTail(logFile, spawned.logOffset, 20);
  for (const line of tail) say(`  | ${line}`);
  throw new LedgerError(`${service} did not start: ${failureReason(outcome, tail, port)}`);
}

type StartOutcome = 'up' | 'exited' | 'timeout';

/** Up means listening (api: /health answered by this pid) or past its startup checks (worker). */
async function waitUntilUp(spawned: DetachedChild, isUp: () => Promise<boolean>): Promise<StartOutcome> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawned.exited()) return 'exited';
    if (await isUp()) return 'up';
    await sleep(100);
  }
  return 'timeout';
}

function isWorkerStartedLine(line: string, pid: number): boolean {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; pid?: unknown };
    return parsed.msg === 'worker started' && parsed.pid === pid;
  } catch {
    return false;
  }
}

function failureReason(outcome: StartOutcome, tail: string[], port: number | undefined): string {
  if (outcome === 'timeout') {
    return port !== undefined
      ? `/health on port ${port} did not answer within ${START_TIMEOUT_MS / 1000} s`
      : `no start-up line within ${START_TIMEOUT_MS / 1000} s`;
  }
  const refusal = [...tail].reverse().find((line) => line.startsWith('ledger: refusing to start: '));
  return refusal?.slice('ledger: '.length) ?? 'exited during start-up (see the log lines above)';
}

export async function stopServices(run: RunDir, envFile: string, services: ServiceName[]): Promise<void> {
  // Worker first: it is the one the runbooks stop before touching the database.
  for (const service of [...services].reverse()) {
    const status = serviceStatus(run, service, envFile);
    if (!status.running || status.pid === null) {
      say(`${service} not running`);
      continue;
    }
    const how = await terminate(status.pid, marks(service, envFile), STOP_TIMEOUT_MS);
    removePidfile(run.pidfile(service));
    say(`${service} stopped (pid ${status.pid}${how === 'killed' ? `, killed after ${STOP_TIMEOUT_MS / 1000} s` : ''})`);
  }
}

export function printStatus(run: RunDir, envFile: string): void {
  emitJson({ api: serviceStatus(run, 'api', envFile), worker: serviceStatus(run, 'worker', envFile) });
}
