// `npm run bench:fleet [-- --deployments 100 --concurrency 10]`: a fleet backup of many small
// deployments on two host workers against the raw tool, 2 pg_dumps at a time (what the
// machine's 2 cores allow). Prints, never asserts:
//   - the wall-time ratio fleet / raw (goal ≤ 1.3),
//   - orchestration per deployment: each child's workflow time minus the time its activities
//     ran (goal ≤ 0.3 s),
//   - the peak resident memory of each worker process.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import { stringify } from 'yaml';
import { pgTool } from '../src/lib/pg-tools';
import type { FleetStatus } from '../src/domain/fleet';
import { startPostgres } from '../test/harness/postgres';
import { startTemporal } from '../test/harness/temporal';
import { BIN } from './stack';

const { values } = parseArgs({
  options: { deployments: { type: 'string', default: '100' }, concurrency: { type: 'string', default: '10' } },
});
const N = Number(values.deployments);
const CONCURRENCY = Number(values.concurrency);
const HOSTS = ['a', 'b'];

const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-bench-fleet-'));
const pgc = await startPostgres({ baseDir: dir });
const temporal = await startTemporal();
const names = Array.from({ length: N }, (_, i) => `fb-${i}`);
const urls: Record<string, string> = {};
const deployments: Record<string, unknown> = {};
console.log(`bench: setting up ${N} deployments…`);
for (const [i, name] of names.entries()) {
  urls[name] = await pgc.createDatabase(name.replace(/-/g, '_'));
  const client = new pg.Client({ connectionString: urls[name] });
  await client.connect();
  await client.query(
    `CREATE TABLE items (id int PRIMARY KEY, payload text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g`,
  );
  await client.end();
  writeFileSync(path.join(dir, `${name}.env`), `DATABASE_URL=${urls[name]}\n`, { mode: 0o600 });
  deployments[name] = {
    host: HOSTS[i % HOSTS.length],
    runtime: { kind: 'commands', start: 'true', stop: 'true' },
    envFile: path.join(dir, `${name}.env`),
    health: { ready: 'http://127.0.0.1:9/never-asked-by-a-backup', timeoutSeconds: 30 },
    backup: { dir: path.join(dir, `backups-${name}`), keep: 1000 },
  };
}
const configFile = path.join(dir, 'day2.yaml');
writeFileSync(
  configFile,
  stringify({
    temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: `day2-bench-fleet-${process.pid}` },
    deployments,
  }),
);

const env = { ...process.env, DAY2_LOG_LEVEL: 'warn', DAY2_FROM_DIST: '1' };
const workers: ResultPromise[] = [];
// Wrapped: an async function returning the (thenable) process would wait for it to exit.
async function startWorker(args: string[]): Promise<{ child: ResultPromise }> {
  const log = path.join(dir, `worker-${workers.length}.log`);
  // info: the worker says 'worker running' once it polls.
  const child = execa(process.execPath, [BIN, '--config', configFile, 'worker', ...args], {
    env: { ...env, DAY2_LOG_LEVEL: 'info' },
    reject: false,
    buffer: false,
  });
  child.stdout?.pipe((await import('node:fs')).createWriteStream(log));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`worker ${args.join(' ')} did not start; see ${log}`)), 120_000);
    child.stdout?.on('data', (b: Buffer) => b.toString().includes('worker running') && (clearTimeout(t), resolve()));
  });
  workers.push(child);
  return { child };
}
const peakRss = (pid: number | undefined) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};

try {
  const control = await startWorker([]);
  const hostWorkers = await Promise.all(HOSTS.map((h) => startWorker(['--host', h])));

  const t0 = Date.now();
  const r = await execa(
    process.execPath,
    [BIN, '--config', configFile, '--json', 'fleet', 'backup', '--all', '--max-concurrency', String(CONCURRENCY)],
    {
      env,
      reject: false,
    },
  );
  const fleetMs = Date.now() - t0;
  if (r.exitCode !== 0) throw new Error(`fleet backup failed (${r.exitCode}): ${r.stderr.slice(-2000)}`);
  const status = (JSON.parse(r.stdout) as { result: FleetStatus }).result;
  const succeeded = status.rows.filter((row) => row.state === 'succeeded').length;

  // Per child: workflow time − the time its activities ran (started → completed).
  const orchestration: number[] = [];
  for (const row of status.rows) {
    const history = await temporal.client.workflow.getHandle(row.workflowId!, row.runId).fetchHistory();
    const events = history.events ?? [];
    const ms = (e: (typeof events)[number] | undefined) =>
      Number(e?.eventTime?.seconds ?? 0) * 1000 + Math.floor((e?.eventTime?.nanos ?? 0) / 1e6);
    const started = new Map<string, number>();
    let activityMs = 0;
    for (const e of events) {
      if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), ms(e));
      const done = e.activityTaskCompletedEventAttributes;
      if (done) activityMs += ms(e) - (started.get(String(done.scheduledEventId)) ?? ms(e));
    }
    orchestration.push(ms(events.at(-1)) - ms(events[0]) - activityMs);
  }
  orchestration.sort((a, b) => a - b);
  const memory = [control, ...hostWorkers].map(
    (w, i) => `${i === 0 ? 'control' : `host ${HOSTS[i - 1]}`} ${(peakRss(w.child.pid) / 2 ** 20).toFixed(0)} MiB`,
  );

  // The raw tool: the same dumps, 2 at a time.
  const pgDump = pgTool('pg_dump');
  const rawDir = path.join(dir, 'raw');
  mkdirSync(rawDir);
  const t1 = Date.now();
  const queue = [...names];
  await Promise.all(
    [0, 1].map(async () => {
      for (let name = queue.shift(); name; name = queue.shift())
        await execa(pgDump, ['-Fc', '-f', path.join(rawDir, `${name}.dump`), urls[name]!]);
    }),
  );
  const rawMs = Date.now() - t1;

  const median = orchestration[Math.floor(orchestration.length / 2)]!;
  const mean = orchestration.reduce((a, b) => a + b, 0) / orchestration.length;
  console.log(
    `bench: fleet backup of ${N} deployments on ${HOSTS.length} host workers, --max-concurrency ${CONCURRENCY}: ${(fleetMs / 1000).toFixed(1)} s (${succeeded} succeeded)`,
  );
  console.log(`bench: raw pg_dump -Fc × ${N}, 2 at a time: ${(rawMs / 1000).toFixed(1)} s`);
  console.log(`bench: ratio fleet / raw = ${(fleetMs / rawMs).toFixed(2)} (goal ≤ 1.3)`);
  console.log(
    `bench: orchestration per deployment (workflow − activity time): median ${(median / 1000).toFixed(2)} s, mean ${(mean / 1000).toFixed(2)} s (goal ≤ 0.3 s)`,
  );
  console.log(`bench: worker peak RSS: ${memory.join(', ')}`);
} finally {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.catch(() => undefined)));
  await temporal.stop();
  await pgc.stop();
  rmSync(dir, { recursive: true, force: true });
}
