// Crash cells of pgBackRest (run only when named: npm run test:pgbackrest-crash).
//
// Backup: the worker is SIGKILLed while pgbackrest backup runs (its process outlives the
// worker and finishes), and once after the backup is made but before it is reported. The
// next worker's retry must find that run's backup by its annotation: one backup per run.
//
// Restore: the worker is SIGKILLed right after pgbackrest restore wrote the new data directory, and
// the directory is then damaged as a kill in the middle of the restore would leave it (its
// completion marker gone, pg_control missing). The next worker must redo the restore from
// scratch, check it, swap it in once, and end with exactly the rows before the target — a
// half-restored directory never takes the live one's place.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { startPgbackrestE2E, type PgbackrestE2E } from '../harness/pgbackrest';

const NAME = 'pgbrcrash';
let e2e: PgbackrestE2E;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pgBackRest backup and PITR restore survive a SIGKILLed worker', { timeout: 600_000 }, () => {
  let control: string;
  before(async () => {
    e2e = await startPgbackrestE2E(NAME);
    control = path.join(e2e.dir, 'pause');
    writeFileSync(control, '');
    await e2e.startWorker({ DAY2_TEST_PAUSE: `@${control}`, DAY2_TEST_PAUSE_SECONDS: '300' });
    await e2e.startService(5);
    await e2e.sql('CREATE TABLE pitr_marks (id serial PRIMARY KEY, tag text NOT NULL)');
    const b = await e2e.cli('backup', '--type', 'full', '--yes');
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
  });
  after(async () => e2e?.teardown());

  /** Starts `day2 backup`, kills the worker when `killWhen` says so, starts a new worker and
   * follows the backup to its end: returns the backups the repository gained. */
  async function backupAcrossKill(pause: string, killWhen: () => Promise<boolean>): Promise<string[]> {
    const before = new Set((await e2e.repo()).backups.map((b) => b.label));
    writeFileSync(control, pause);
    const started = await e2e.cli('backup', '--type', 'incr', '--detach');
    assert.equal(started.exitCode, 0, started.stdout + started.stderr);
    for (let i = 0; !(await killWhen()); i++) {
      assert.ok(i < 3000, 'the kill point was reached');
      await sleep(20);
    }
    await e2e.worker!.kill();
    writeFileSync(control, '');
    await e2e.startWorker({ DAY2_TEST_PAUSE: `@${control}` });
    const followed = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    assert.equal(followed.exitCode, 0, followed.stdout + followed.stderr);
    return (await e2e.repo()).backups.map((b) => b.label).filter((l) => !before.has(l));
  }

  it('kill while pgbackrest backup runs: the retry waits for it and takes no second backup', async () => {
    const running = async () => (await execa('pgrep', ['-f', `pgbackrest.*--stanza=${NAME}.* backup`], { reject: false })).exitCode === 0;
    const added = await backupAcrossKill('', running);
    assert.equal(added.length, 1, `one backup for the run, got ${added.join(', ')}`);
  });

  it('kill after the backup is made, before it is reported: the retry finds it by its annotation', async () => {
    const paused = async () => readFileSync(e2e.worker!.logFile, 'utf8').includes('"test pause"');
    const added = await backupAcrossKill('takePgbackrestBackup@end 300\n', paused);
    assert.equal(added.length, 1, `one backup for the run, got ${added.join(', ')}`);
  });

  it('kill after restorePitrIntoNewDir, directory left half-made: redone, swapped once, rows exactly as at the target', async () => {
    await e2e.sql("INSERT INTO pitr_marks (tag) SELECT 'before' FROM generate_series(1, 3)");
    await sleep(1100);
    const target = new Date().toISOString();
    const reference = await tableChecksums(e2e.dbUrl);
    await sleep(1100);
    await e2e.sql("INSERT INTO pitr_marks (tag) SELECT 'after' FROM generate_series(1, 4)");

    writeFileSync(control, 'restorePitrIntoNewDir@end 300\n');
    const started = await e2e.cli('restore', '--to-time', target, '--yes', '--detach');
    assert.equal(started.exitCode, 0, started.stdout + started.stderr);
    const log = e2e.worker!.logFile;
    for (let i = 0; !readFileSync(log, 'utf8').includes('"test pause"'); i++) {
      assert.ok(i < 600, 'the worker reached the pause');
      await sleep(200);
    }
    await e2e.worker!.kill();
    const parent = path.dirname(e2e.pgbr.dataDir);
    const newDir = readdirSync(parent).find((f) => /^data\.restore-\d+$/.test(f));
    assert.ok(newDir, 'the restore wrote a new data directory');
    // As a kill mid-restore leaves it: incomplete, unmarked.
    rmSync(path.join(parent, `${newDir}.restored`));
    rmSync(path.join(parent, newDir, 'global', 'pg_control'));

    writeFileSync(control, '');
    await e2e.startWorker({ DAY2_TEST_PAUSE: `@${control}` });
    const followed = await e2e.cli('--json', 'status', e2e.workflowId, '--follow');
    assert.equal(followed.exitCode, 0, followed.stdout + followed.stderr);
    assert.deepEqual(await tableChecksums(e2e.dbUrl), reference);
    const siblings = readdirSync(parent).filter((f) => f.startsWith('data.'));
    assert.deepEqual(siblings.filter((f) => f.startsWith('data.pre-restore-')).length, 1, siblings.join(', '));
    assert.deepEqual(
      siblings.filter((f) => /^data\.restore-\d+$/.test(f)),
      [],
      'no restored copy left beside the live one',
    );
    assert.ok(!existsSync(path.join(e2e.pgbr.dataDir, 'recovery.signal')));
  });
});
