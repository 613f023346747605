// Pidfiles and detached processes. A pid is only trusted while the process behind it is
// alive, not a zombie, and still runs the command we started (pids get reused).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomic } from './run-dir';

export function readPidfile(pidfile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePidfile(pidfile: string, pid: number): void {
  writeFileAtomic(pidfile, `${pid}\n`);
}

export function removePidfile(pidfile: string): void {
  rmSync(pidfile, { force: true });
}

/** True when `pid` runs and its command line contains every one of `marks`. */
export function processRunning(pid: number, marks: readonly string[]): boolean {
  const proc = `/proc/${pid}`;
  if (!existsSync('/proc/self')) return signalable(pid);
  try {
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    if (state === 'Z' || state === 'X') return false;
    const cmdline = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    return marks.every((mark) => cmdline.includes(mark));
  } catch {
    return false;
  }
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DetachedChild {
  child: ChildProcess;
  /** Where this run's output starts in the log file. */
  logOffset: number;
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Starts a process in its own session (it outlives the caller and its terminal), output
 * appended to `logFile`. The environment is minimal on purpose: the service is configured
 * by its env file only, and stray PG* variables must not steer its connections.
 */
export function spawnDetached(command: string, args: string[], opts: { cwd: string; logFile: string }): DetachedChild {
  const logOffset = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const fd = openSync(opts.logFile, 'a');
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: minimalEnv(),
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
    });
    child.unref();
    return { child, logOffset, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

function minimalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** SIGTERM to the process group, SIGKILL after `timeoutMs`. Resolves once it is gone. */
export async function terminate(pid: number, marks: readonly string[], timeoutMs: number): Promise<'terminated' | 'killed'> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processRunning(pid, marks)) return 'terminated';
    await sleep(50);
  }
  signalGroup(pid, 'SIGKILL');
  while (processRunning(pid, marks)) await sleep(50);
  return 'killed';
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `count` lines a file gained after `offset`. */
export function logTail(file: string, offset: number, count: number): string[] {
  try {
    const text = readFileSync(file).subarray(offset).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-count);
  } catch {
    return [];
  }
}
