// Runs a day2 worker as a separate OS process, so a test can SIGKILL it mid-operation
// and start a new one, exactly as a crash in production would happen.
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { cliArgv } from './cli';

export interface WorkerProcess {
  pid: number;
  /** SIGKILL: no graceful shutdown, in-flight activities are lost mid-way. */
  kill(): Promise<void>;
  /** SIGTERM: graceful drain. */
  stop(): Promise<void>;
  logFile: string;
}

/** `args`: more `day2 worker` arguments, e.g. ['--host', 'east']. */
export async function spawnWorker(
  configFile: string,
  opts: { logDir: string; env?: Record<string, string>; args?: string[] },
): Promise<WorkerProcess> {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `worker-${Date.now()}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const [node, ...argv] = cliArgv(configFile, ['worker', ...(opts.args ?? [])]);
  const child: ResultPromise = execa(node, argv, {
    env: { ...opts.env },
    reject: false,
    buffer: false,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 60 s; see ${logFile}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`worker exited early (${r.exitCode}); see ${logFile}`));
    });
  });
  const exited = child.then(() => undefined);
  return {
    pid: child.pid ?? 0,
    logFile,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
