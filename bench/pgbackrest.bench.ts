// `npm run bench:pgbackrest`: backup and restore wall time of backup.method pgbackrest
// through day2 (CLI → worker → workflow) against day2's own pg_dump path on the same
// database and against raw pgBackRest run by hand, with ratios. A pgbench database of
// DAY2_BENCH_SCALE (default 10; the issue's figure is 50, about 750 MB) on a private
// cluster with WAL archiving on; one run each (DAY2_BENCH_RUNS for more; medians).
// Printed, never asserted. Each restore starts from a fresh full backup. Restores are whole-cluster (pgBackRest) vs one database
// (pg_restore into a staging database and a rename), both through stop/start/readiness.
// The CLI runs as installed (bin/day2.js from a fresh dist/ build; DAY2_BENCH_NO_BUILD=1
// skips the build), never compiled at run time: what an operator's call costs.
import { readFileSync, writeFileSync, mkdirSync, rmSync, chownSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { loadConfig } from '../src/config';
import { pgbackrest } from '../src/activities/pgbackrest/run';
import { startClusterPrivately, stopCluster } from '../src/activities/pgbackrest/cluster';
import { freeLoopbackPort } from '../src/lib/scratch-cluster';
import { withClient } from '../src/activities/shared/pg-connection';
import { pgTool } from '../src/lib/pg-tools';
import { startPgbackrestE2E } from '../test/harness/pgbackrest';
import { BIN } from './stack';

const SCALE = Number(process.env.DAY2_BENCH_SCALE ?? 10);
const RUNS = Number(process.env.DAY2_BENCH_RUNS ?? 1);
// pgbench's filler is blanks, which pg_dump compresses to almost nothing (14 MB for 755 MB):
// `random` gives pgbench_accounts random text instead, as real rows have (a dump ≈ 1/3).
const FILLER = process.env.DAY2_BENCH_FILLER ?? 'blank';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = Date.now();
  await fn();
  return (Date.now() - t) / 1000;
}
async function must(p: Promise<{ exitCode: number; stdout: string; stderr: string }>, what: string) {
  const r = await p;
  if (r.exitCode !== 0) throw new Error(`${what} exited ${r.exitCode}: ${r.stdout}\n${r.stderr}`);
  return r;
}
const line = (what: string, a: number, b: number, goal?: string) =>
  console.log(`  ${what.padEnd(58)} ${(a / b).toFixed(2)}×${goal ? `   (goal ${goal})` : ''}`);

async function main(): Promise<void> {
  if (process.env.DAY2_BENCH_NO_BUILD !== '1') await execa('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const e2e = await startPgbackrestE2E('pgbrbench', { processMax: 4 });
  try {
    // A second deployment on the same database with day2's pg_dump path.
    const raw = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8')) as {
      deployments: Record<string, { backup: Record<string, unknown> }>;
    };
    const dump = structuredClone(raw.deployments.pgbrbench!);
    dump.backup = { dir: 'backups-dump', keep: 3 };
    raw.deployments.dump = dump;
    writeFileSync(e2e.deployment.configFile, YAML.stringify(raw));
    e2e.config = loadConfig(e2e.deployment.configFile);
    const cli = async (...args: string[]) => {
      const r = await execa(process.execPath, [BIN, '--config', e2e.deployment.configFile, ...args], {
        reject: false,
        env: { DAY2_USER: 'bench' },
      });
      return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    };

    await e2e.startWorker();
    await e2e.startService(5);
    console.log(`pgbench -i -s ${SCALE} …`);
    const u = new URL(e2e.dbUrl);
    await execa(
      pgTool('psql').replace(/psql$/, 'pgbench'),
      ['-i', '-q', '-s', String(SCALE), '-h', u.hostname, '-p', u.port, '-U', u.username, u.pathname.slice(1)],
      { env: { PGPASSWORD: decodeURIComponent(u.password) } },
    );
    if (FILLER === 'random') {
      console.log('random filler in pgbench_accounts …');
      await withClient(e2e.dbUrl, async (cl) => {
        await cl.query(`CREATE TABLE accounts_random AS SELECT aid, bid, abalance,
          md5(random()::text) || md5(random()::text) || left(md5(random()::text), 20) AS filler FROM pgbench_accounts`);
        await cl.query('DROP TABLE pgbench_accounts');
        await cl.query('ALTER TABLE accounts_random RENAME TO pgbench_accounts');
        await cl.query('ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)');
        await cl.query('VACUUM ANALYZE pgbench_accounts');
      });
    }
    const size = await withClient(
      e2e.dbUrl,
      async (c) => (await c.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0]!.s,
    );
    console.log(`database ${size}; archiving set up by the first day2 backup (not timed)`);
    await must(cli('backup', '--deployment', 'pgbrbench', '--type', 'full', '--yes'), 'first backup');

    // Where day2's time goes: the step durations of its latest pgBackRest workflow.
    const stepTimes: Record<string, Array<[string, number]>> = {};
    const recordSteps = async (op: string) => {
      const st = await cli('--json', 'status', 'day2-pgbrbench');
      const steps = (
        JSON.parse(st.stdout || '{}') as { progress?: { steps: Array<{ name: string; startedAt?: string; endedAt?: string }> } }
      ).progress?.steps;
      stepTimes[op] = (steps ?? [])
        .filter((x) => x.startedAt && x.endedAt)
        .map((x) => [x.name, (Date.parse(x.endedAt!) - Date.parse(x.startedAt!)) / 1000]);
    };
    const c = e2e.pgbr;
    const times: Record<string, number[]> = {};
    const add = (k: string, t: number) => (times[k] ??= []).push(t);
    for (let i = 0; i < RUNS; i++) {
      add(
        'backup: day2 pgbackrest full',
        await timed(() => must(cli('backup', '--deployment', 'pgbrbench', '--type', 'full', '--yes'), 'day2 backup')),
      );
      await recordSteps('full backup');
      add('backup: raw pgbackrest full', await timed(() => pgbackrest(c, 'backup', ['--type=full'])));
      add('backup: day2 pg_dump', await timed(() => must(cli('backup', '--deployment', 'dump'), 'day2 pg_dump backup')));
      // The writes come before the clock starts: the UPDATE scans the whole table.
      await withClient(e2e.dbUrl, (cl) => cl.query('UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 1000 = 0'));
      add(
        'backup: day2 pgbackrest incr (after a few writes)',
        await timed(() => must(cli('backup', '--deployment', 'pgbrbench', '--type', 'incr', '--yes'), 'day2 incr')),
      );
    }
    // Every restore starts from a fresh full backup (untimed), so each replays only the WAL
    // of a few seconds — not what the previous restores wrote (a pg_restore of the whole
    // database is a gigabyte of WAL), which would swamp the comparison.
    const freshFull = () => pgbackrest(c, 'backup', ['--type=full']);
    for (let i = 0; i < RUNS; i++) {
      await freshFull();
      add(
        'restore: day2 pgbackrest --latest',
        await timed(() => must(cli('restore', '--deployment', 'pgbrbench', '--latest', '--yes'), 'day2 pitr restore')),
      );
      await recordSteps('restore --latest');
      const [newest] = (await must(cli('--json', 'backups', '--deployment', 'dump'), 'backups')).stdout.match(/dump-[0-9-]+\.dump/) ?? [];
      add(
        'restore: day2 pg_dump (pg_restore + swap)',
        await timed(() => must(cli('restore', '--deployment', 'dump', newest!, '--yes'), 'day2 dump restore')),
      );
      await freshFull();
      // Raw: what a person runs — pgbackrest restore into an empty directory, start it, wait until it takes writes.
      const dir = `${c.dataDir}.bench-raw`;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o700 });
      const st = statSync(c.dataDir);
      chownSync(dir, st.uid, st.gid);
      add(
        'restore: raw pgbackrest restore + start',
        await timed(async () => {
          await pgbackrest(c, 'restore', [`--pg1-path=${dir}`, '--type=default']);
          await startClusterPrivately(dir, await freeLoopbackPort(), path.dirname(c.dataDir), `${dir}.log`);
          for (;;) {
            const r = await execa(
              pgTool('psql'),
              [
                '-h',
                path.dirname(c.dataDir),
                '-p',
                readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[3]!,
                '-U',
                'postgres',
                '-Atc',
                'SELECT pg_is_in_recovery()',
              ],
              { reject: false, cwd: '/' },
            );
            if (r.stdout.trim() === 'f') break;
            await new Promise((res) => setTimeout(res, 200));
          }
        }),
      );
      await stopCluster(dir);
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [op, steps] of Object.entries(stepTimes)) {
      console.log(`\nlast day2 pgBackRest ${op}, step by step:`);
      for (const [name, t] of steps) console.log(`  ${name.padEnd(40)} ${t.toFixed(1)} s`);
    }
    console.log(`\nscale ${SCALE} (${size}, ${FILLER} filler), ${RUNS} run(s), medians in seconds:`);
    const m: Record<string, number> = {};
    for (const [k, v] of Object.entries(times)) {
      m[k] = median(v);
      console.log(`  ${k.padEnd(58)} ${m[k]!.toFixed(1)} s`);
    }
    console.log('ratios:');
    line('backup: day2 pgbackrest full / day2 pg_dump', m['backup: day2 pgbackrest full']!, m['backup: day2 pg_dump']!, '≤ 0.5');
    line(
      'backup: day2 pgbackrest incr / day2 pg_dump',
      m['backup: day2 pgbackrest incr (after a few writes)']!,
      m['backup: day2 pg_dump']!,
    );
    line(
      'backup: day2 pgbackrest full / raw pgbackrest full',
      m['backup: day2 pgbackrest full']!,
      m['backup: raw pgbackrest full']!,
      '≤ 1.05',
    );
    line(
      'restore: day2 pgbackrest / day2 pg_dump',
      m['restore: day2 pgbackrest --latest']!,
      m['restore: day2 pg_dump (pg_restore + swap)']!,
      '≤ 0.5',
    );
    line(
      'restore: day2 pgbackrest / raw pgbackrest',
      m['restore: day2 pgbackrest --latest']!,
      m['restore: raw pgbackrest restore + start']!,
      '≤ 1.05',
    );
    const health = await withClient(
      e2e.dbUrl,
      async (cl) =>
        (await cl.query<{ age: number }>('SELECT extract(epoch FROM now() - last_archived_time)::float AS age FROM pg_stat_archiver'))
          .rows[0]!.age,
    );
    console.log(`RPO now (seconds since the last archived segment, archive_timeout ${c.archiveTimeout} s): ${health.toFixed(1)}`);
  } finally {
    await e2e.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
