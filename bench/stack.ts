// What the CLI benchmarks run against: a private PostgreSQL cluster (or
// DAY2_TEST_PG_ADMIN_URL), a Temporal dev server (or DAY2_TEST_TEMPORAL_ADDRESS), a
// day2.yaml with one deployment whose service is a tiny HTTP server answering ready, and a
// day2 worker started through bin/day2.js — the built CLI in dist/ when there is one.
import { createServer, type Server } from 'node:http';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import { startPostgres, type PostgresCluster } from '../test/harness/postgres';
import { startTemporal, type TestTemporal } from '../test/harness/temporal';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'day2.js');

export interface BenchStack {
  pg: PostgresCluster;
  temporal: TestTemporal;
  configFile: string;
  /** Database URL of each deployment, by name. */
  databaseUrls: Record<string, string>;
  /** Backup directory of each deployment, by name. */
  backupDirs: Record<string, string>;
  /** Runs `bin/day2.js --config <file> …`; rejects on a non-zero exit. */
  day2(args: string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Peak resident memory of the worker process so far (VmHWM), in bytes. */
  workerPeakRss(): number | undefined;
  stop(): Promise<void>;
}

export interface StackOptions {
  dir: string;
  /** Each gets its own database, env file and backup directory. */
  deployments: string[];
  /** Each deployment's `backup` section beyond `dir`. */
  backup?: Record<string, unknown>;
  restore?: Record<string, unknown>;
}

export async function startStack(opts: StackOptions): Promise<BenchStack> {
  const pg = await startPostgres({ baseDir: opts.dir });
  const temporal = await startTemporal();
  const ready: Server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}'));
  await new Promise<void>((resolve) => ready.listen(0, '127.0.0.1', resolve));
  const port = (ready.address() as { port: number }).port;

  const databaseUrls: Record<string, string> = {};
  const backupDirs: Record<string, string> = {};
  const deployments: Record<string, unknown> = {};
  for (const name of opts.deployments) {
    databaseUrls[name] = await pg.createDatabase(name);
    writeFileSync(path.join(opts.dir, `${name}.env`), `DATABASE_URL=${databaseUrls[name]}\n`, { mode: 0o600 });
    backupDirs[name] = path.join(opts.dir, `backups-${name}`);
    deployments[name] = {
      runtime: { kind: 'commands', start: 'true', stop: 'true' },
      envFile: `${name}.env`,
      health: { ready: `http://127.0.0.1:${port}/health/ready`, timeoutSeconds: 30 },
      backup: { dir: `backups-${name}`, keep: 1000, ...opts.backup },
      ...(opts.restore ? { restore: { ...opts.restore } } : {}),
    };
  }
  const configFile = path.join(opts.dir, 'day2.yaml');
  writeFileSync(
    configFile,
    stringify(
      {
        temporal: {
          address: temporal.address,
          ...(temporal.httpAddress && !process.env.DAY2_BENCH_GRPC_ONLY ? { httpAddress: temporal.httpAddress } : {}),
          namespace: temporal.namespace,
          taskQueue: `day2-bench-${process.pid}`,
        },
        deployments,
      },
      { aliasDuplicateObjects: false },
    ),
  );

  let worker: ResultPromise | undefined;
  const logDir = path.join(opts.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // The build the bench just made, even if someone edits src/ meanwhile.
  const env = { DAY2_LOG_LEVEL: 'warn', DAY2_FROM_DIST: '1' };

  const stack: BenchStack = {
    pg,
    temporal,
    configFile,
    databaseUrls,
    backupDirs,
    async day2(args, extra = {}) {
      const r = await execa(process.execPath, [BIN, '--config', configFile, ...args], { env: { ...env, ...extra }, reject: false });
      if (r.exitCode !== 0) throw new Error(`day2 ${args.join(' ')} exited ${r.exitCode}: ${r.stderr || r.stdout}`);
      return { stdout: r.stdout, stderr: r.stderr };
    },
    async startWorker() {
      const log = createWriteStream(path.join(logDir, `worker-${Date.now()}.log`));
      const child = execa(process.execPath, [BIN, '--config', configFile, 'worker'], {
        env: { ...env, DAY2_LOG_LEVEL: 'info' },
        reject: false,
        buffer: false,
      });
      let stderr = '';
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the worker did not start within 90 s')), 90_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('worker running')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void child.then((r) => reject(new Error(`the worker exited early (${r.exitCode}): ${stderr.trim()}`)));
      });
      worker = child;
    },
    async stopWorker() {
      worker?.kill('SIGTERM');
      await worker;
      worker = undefined;
    },
    workerPeakRss() {
      if (!worker?.pid) return undefined;
      try {
        const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
        const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    async stop() {
      await stack.stopWorker().catch(() => {});
      ready.close();
      await temporal.stop().catch(() => {});
      await pg.stop().catch(() => {});
    },
  };
  return stack;
}
