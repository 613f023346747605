// `day2 drill` end to end: a backup restored into a scratch PostgreSQL cluster the worker
// starts for the drill, checked there, the cluster removed; production never touched. A
// worker killed mid-drill leaves a running scratch cluster that the retry removes first.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { pgTool } from '../../src/lib/pg-tools';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import type { DrillResult } from '../../src/domain/types';
import { spawnCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';

let e2e: E2E;
const NAME = 'drill';
const ENTRIES = 12;
const scratchDirs = () => readdirSync(os.tmpdir()).filter((n) => n.startsWith(`day2-drill-${NAME}-`));
/** The drill deployment's databases on its server (other test files create their own there). */
const databases = async () =>
  (await execa(pgTool('psql'), [e2e.pg.adminUrl, '-Atc', "select datname from pg_database where datname like 'drill%' order by 1"])).stdout;
const scratchPostmasters = async () => (await execa('pgrep', ['-f', `day2-drill-${NAME}-`], { reject: false })).stdout.trim();

before(async () => {
  e2e = await startE2E(NAME, {
    extra: {
      drill: {
        minTables: 3,
        requireRows: ['entries', 'public.api_keys'],
        checks: [{ kind: 'sql', name: 'entries as at the first backup', query: 'select count(*) from entries', expect: String(ENTRIES) }],
      },
    },
  });
  await e2e.startService(ENTRIES);
  await must(e2e.deployment.ctl('create-key', '--name', 'drill'));
  await e2e.startWorker();
});
after(async () => e2e?.teardown());

async function must(p: Promise<{ exitCode: number; stderr: string }>) {
  const r = await p;
  assert.equal(r.exitCode, 0, r.stderr);
}

let first: string;

describe('day2 drill', () => {
  test('with no backup yet: bad input that says how to take one', async () => {
    const r = await e2e.cli('drill');
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /drill has no backups to drill: take one with day2 backup --deployment drill/);
  });

  test('restores the newest backup in a scratch cluster: every table back with its rows; production untouched', async () => {
    first = await e2e.backup();
    const live = await tableChecksums(e2e.deployment.databaseUrl);
    const dbs = await databases();

    const r = await e2e.cli('--json', 'drill');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as DrillResult;
    assert.equal(result.file, first);
    assert.deepEqual(
      result.checks.map((c) => [c.name, c.ok]),
      [
        ['archive verified', true],
        ['restored without errors', true],
        ['every table of the archive restored', true],
        ['at least 3 tables', true],
        ['rows in entries', true],
        ['rows in public.api_keys', true],
        ['entries as at the first backup', true],
      ],
    );
    const liveRows = Object.fromEntries(Object.entries(live).map(([t, v]) => [t, Number(/rows=(\d+)/.exec(v)![1])]));
    assert.deepEqual(result.tables, liveRows, 'the scratch copy has every table with the rows the live database had');
    assert.equal(result.tables['public.entries'], ENTRIES);

    assert.deepEqual(await tableChecksums(e2e.deployment.databaseUrl), live, 'the live database is unchanged');
    assert.equal(await databases(), dbs, "no database was created on the deployment's server");
    assert.deepEqual(scratchDirs(), [], 'the scratch cluster is removed');
    assert.equal(await scratchPostmasters(), '', 'and stopped');

    const human = await e2e.cli('drill', '--backup', first);
    assert.equal(human.exitCode, 0, human.stderr);
    assert.match(human.stdout, /^started drill of drill: day2-drill-drill-\d{8}T\d{9} \(run /m);
    assert.match(human.stdout, /^ {2}✓ every table of the archive restored — \d+ tables, \d+ rows$/m);
    assert.match(human.stdout, new RegExp(`^drill passed: ${first} restores \\(pg_restore \\d+\\.\\d s\\)$`, 'm'));
  });

  test('a backup that fails a check fails the drill, naming the check; --backup drills an older one', async () => {
    await must(e2e.deployment.ctl('seed', '--entries', '3'));
    const second = await e2e.backup();
    const r = await e2e.cli('--json', 'drill');
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as DrillResult;
    assert.equal(result.file, second);
    assert.deepEqual(
      result.checks.filter((c) => !c.ok),
      [{ name: 'entries as at the first backup', ok: false, detail: `expected "${ENTRIES}", got "${ENTRIES + 3}"` }],
    );
    assert.equal(result.ok, false);
    assert.equal(r.stderr, '', '--json writes nothing but its document');
    const older = await e2e.cli('drill', '--backup', first);
    assert.equal(older.exitCode, 0, older.stdout + older.stderr);
  });

  test('bad input: a path, a missing file, a truncated archive → exit 2, nothing started', async () => {
    const traversal = await e2e.cli('drill', '--backup', '../../etc/passwd');
    assert.equal(traversal.exitCode, 2);
    assert.match(traversal.stderr, /backup name '\.\.\/\.\.\/etc\/passwd' is not a bare file name/);
    const missing = await e2e.cli('drill', '--backup', 'drill-2001-01-01-000000.dump');
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /backup drill-2001-01-01-000000\.dump not found in /);
    const victim = await e2e.backup();
    appendFileSync(path.join(e2e.deployment.backupDir, victim), 'x');
    const truncated = await e2e.cli('drill', '--backup', victim);
    assert.equal(truncated.exitCode, 2, truncated.stdout + truncated.stderr);
    assert.match(
      truncated.stderr,
      new RegExp(`backup ${victim} cannot be used: its size is \\d+ bytes but its manifest says \\d+ \\(truncated or altered\\)`),
    );
    assert.deepEqual(scratchDirs(), []);
  });

  test('the worker killed mid-drill: the retry removes the running scratch cluster it left, then passes', async () => {
    const cli = spawnCli(e2e.deployment.configFile, ['drill', '--backup', first]);
    // The scratch cluster is up (its postmaster.pid exists) only inside the activity.
    const deadline = Date.now() + 60_000;
    const up = () => scratchDirs().some((d) => existsSync(path.join(os.tmpdir(), d, 'data', 'postmaster.pid')));
    while (!up()) {
      assert.ok(Date.now() < deadline, `no scratch cluster came up: ${cli.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await e2e.worker!.kill();
    const [left] = scratchDirs();
    assert.ok(left, 'the killed attempt left its cluster behind');
    assert.notEqual(await scratchPostmasters(), '', 'still running');
    await e2e.startWorker();
    const { exitCode } = await cli.child;
    assert.equal(exitCode, 0, cli.output());
    assert.match(cli.output(), /drill passed/);
    assert.deepEqual(scratchDirs(), [], "the retry removed the crashed attempt's cluster and its own");
    assert.equal(await scratchPostmasters(), '');
  });
});
