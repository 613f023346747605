// Database activities against a real PostgreSQL cluster: the suite's shared one under
// `npm test` (other files run beside this one), else a private one for this file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { databaseActivities } from '../../src/activities/database';
import { libpqArgs } from '../../src/activities/shared/pg-connection';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { parseConfig } from '../../src/config';
import { manifestNameFor } from '../../src/domain/backup-names';
import type { BackupManifest } from '../../src/domain/types';
import { createLogger } from '../../src/logger';
import { startPostgres, type PostgresCluster } from '../harness/postgres';
import { activityDeps } from '../../src/activities/shared/deps';

let cluster: PostgresCluster;
let work: string;
let acts: ReturnType<typeof databaseActivities>;
let liveUrl: string;
const backupDir = () => path.join(work, 'backups');

async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/** The `ledger` deployment's databases: the live one and any staged or set aside beside it.
 * Only these: test files running beside this one create and drop their own. */
async function databases(): Promise<string[]> {
  const { rows } = await sql(
    cluster.adminUrl,
    `SELECT datname FROM pg_database WHERE datname = 'ledger' OR datname LIKE 'ledger\\_%' ORDER BY 1`,
  );
  return rows.map((r) => r.datname as string);
}

async function seed(url: string): Promise<void> {
  await sql(
    url,
    `CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL UNIQUE, balance numeric(12,2) NOT NULL DEFAULT 0);
     CREATE TABLE entries (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), amount numeric(12,2), memo text);
     CREATE SCHEMA audit;
     CREATE TABLE audit.events (at timestamptz NOT NULL, detail jsonb);
     CREATE VIEW balances AS SELECT name, balance FROM accounts;
     INSERT INTO accounts (name, balance) VALUES ('alice', 100), ('bob', 50.5), ('zoë', 0);
     INSERT INTO entries (account_id, amount, memo)
       SELECT 1 + (g % 3), g * 1.25, 'memo ' || g || E'\\nline two' FROM generate_series(1, 500) g;
     INSERT INTO audit.events VALUES ('2026-01-01T00:00:00Z', '{"kind": "seed"}');`,
  );
}

const run = (runId: string, fileName: string, extra: Partial<Parameters<typeof acts.createBackup>[0]> = {}) => ({
  deployment: 'ledger',
  fileName,
  workflowId: 'day2-ledger',
  runId,
  createdAt: '2026-11-22T11:04:00.000Z',
  ...extra,
});

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const inDir = (file: string) => path.join(backupDir(), file);

/** A copy of a backup under a new name, with its manifest rewritten by `edit`. */
function cloneBackup(from: string, to: string, edit: (m: BackupManifest, dump: string) => BackupManifest = (m) => m): void {
  copyFileSync(inDir(from), inDir(to));
  const manifest = JSON.parse(readFileSync(inDir(manifestNameFor(from)), 'utf8')) as BackupManifest;
  writeFileSync(inDir(manifestNameFor(to)), JSON.stringify(edit({ ...manifest, file: to }, inDir(to))));
}

/** Manifest fields matching the dump as it is now on disk. */
const rehash = (m: BackupManifest, dump: string): BackupManifest => ({ ...m, sizeBytes: statSync(dump).size, sha256: sha256Of(dump) });

before(async () => {
  cluster = await startPostgres();
  work = mkdtempSync(path.join(os.tmpdir(), 'day2-dbact-'));
  liveUrl = await cluster.createDatabase('ledger');
  await seed(liveUrl);
  writeFileSync(path.join(work, '.env'), `# ledger\nDATABASE_URL=${liveUrl}\nAPP_VERSION=1.0.0\n`);
  const deployment = (backupSubdir: string, envFile = '.env') => ({
    runtime: { kind: 'commands', start: 'true', stop: 'true' },
    envFile,
    health: { ready: 'http://127.0.0.1:1/health/ready' },
    backup: { dir: backupSubdir },
  });
  const config = parseConfig(
    {
      deployments: {
        ledger: deployment('backups'),
        retention: deployment('retention-backups'),
        limited: deployment('limited-backups', 'limited.env'),
      },
    },
    work,
  );
  acts = databaseActivities(activityDeps({ config, logger: createLogger('test', 'silent') }));
});

after(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('createBackup', () => {
  it('dumps, verifies and writes a manifest; file 0600 in a 0700 directory', async (t) => {
    const started = performance.now();
    const { manifest, reused } = await acts.createBackup(
      run('run-1', 'ledger-2026-11-22-110400.dump', { appVersion: '1.0.0', preUpgradeVersion: '1.0.0' }),
    );
    t.diagnostic(`backup of the seed database: ${(performance.now() - started).toFixed(0)} ms, ${manifest.sizeBytes} bytes`);
    assert.equal(reused, false);
    const dump = inDir('ledger-2026-11-22-110400.dump');
    assert.equal(manifest.file, 'ledger-2026-11-22-110400.dump');
    assert.equal(manifest.deployment, 'ledger');
    assert.equal(manifest.database, 'ledger');
    assert.match(manifest.serverVersion, /^\d+\.\d+/);
    assert.equal(manifest.appVersion, '1.0.0');
    assert.equal(manifest.preUpgradeVersion, '1.0.0');
    assert.equal(manifest.createdAt, '2026-11-22T11:04:00.000Z');
    assert.equal(manifest.workflowId, 'day2-ledger');
    assert.equal(manifest.runId, 'run-1');
    assert.ok(manifest.tocEntries > 5, `tocEntries ${manifest.tocEntries}`);
    assert.equal(manifest.sizeBytes, statSync(dump).size);
    assert.equal(manifest.sha256, sha256Of(dump));
    assert.deepEqual(JSON.parse(readFileSync(inDir(manifestNameFor(manifest.file)), 'utf8')), manifest);
    assert.equal(statSync(dump).mode & 0o777, 0o600);
    assert.equal(statSync(inDir(manifestNameFor(manifest.file))).mode & 0o777, 0o600);
    assert.equal(statSync(backupDir()).mode & 0o777, 0o700);
    assert.equal(readFileSync(inDir('.pre-upgrade-version'), 'utf8'), '1.0.0\n');
    assert.deepEqual(
      readdirSync(backupDir()).filter((f) => f.includes('partial') || f.endsWith('.tmp')),
      [],
    );
  });

  it('reuses the file of the same run: no new dump, nothing rewritten', async () => {
    const dump = inDir('ledger-2026-11-22-110400.dump');
    const before = { files: readdirSync(backupDir()).sort(), mtime: statSync(dump).mtimeMs };
    const { manifest, reused } = await acts.createBackup(run('run-1', 'ledger-2026-11-22-110400.dump', { appVersion: '1.0.0' }));
    assert.equal(reused, true);
    assert.equal(manifest.runId, 'run-1');
    assert.deepEqual(readdirSync(backupDir()).sort(), before.files);
    assert.equal(statSync(dump).mtimeMs, before.mtime);
  });

  it('refuses a name that another run already holds, and leaves it alone', async () => {
    const dump = inDir('ledger-2026-11-22-110400.dump');
    const sha = sha256Of(dump);
    await assert.rejects(acts.createBackup(run('run-2', 'ledger-2026-11-22-110400.dump')), (err: Error) => {
      assert.equal(err.name, 'BadInput');
      assert.match(err.message, /already exists .*never overwrites/);
      return true;
    });
    assert.equal(sha256Of(dump), sha);
  });

  it('refuses names that are not bare', async () => {
    for (const name of ['../x.dump', '/etc/passwd', '.hidden.dump']) {
      await assert.rejects(acts.createBackup(run('run-3', name)), { name: 'BadInput' });
    }
  });

  it('after a crash before the manifest was published, the retry finishes the job', async () => {
    const name = 'ledger-crash.dump';
    const first = await acts.createBackup(run('run-crash', name));
    // As if the worker died between "link dump" and "rename manifest".
    renameSync(inDir(manifestNameFor(name)), inDir(`.${name}.run-crash.manifest.partial`));
    const retry = await acts.createBackup(run('run-crash', name));
    assert.equal(retry.reused, true);
    assert.deepEqual(retry.manifest, first.manifest);
    assert.ok(statSync(inDir(manifestNameFor(name))).isFile());
    // A dump without a manifest that is not ours is refused, never replaced.
    rmSync(inDir(manifestNameFor(name)));
    await assert.rejects(acts.createBackup(run('run-other', name)), /without a manifest/);
    rmSync(inDir(name));
  });

  it('after a crash during pg_dump, the retry discards the partial file and dumps again', async () => {
    const name = 'ledger-retry.dump';
    writeFileSync(inDir(`.${name}.run-p.partial`), 'half a dump');
    const { reused, manifest } = await acts.createBackup(run('run-p', name));
    assert.equal(reused, false);
    assert.equal(manifest.sha256, sha256Of(inDir(name)));
    assert.deepEqual(
      readdirSync(backupDir()).filter((f) => f.includes('partial')),
      [],
    );
    rmSync(inDir(name));
    rmSync(inDir(manifestNameFor(name)));
  });
});

describe('verifyBackup', () => {
  const good = 'ledger-2026-11-22-110400.dump';
  let dataBefore: Record<string, string>;
  let databasesBefore: string[];

  before(async () => {
    dataBefore = await tableChecksums(liveUrl);
    databasesBefore = await databases();
  });
  after(async () => {
    // Every refusal below was read-only.
    assert.deepEqual(await tableChecksums(liveUrl), dataBefore);
    assert.deepEqual(await databases(), databasesBefore);
  });

  it('returns the manifest of a good backup', async () => {
    const manifest = await acts.verifyBackup({ deployment: 'ledger', file: good });
    assert.equal(manifest.file, good);
  });

  const refuses = (file: string, name: string, message: RegExp) =>
    assert.rejects(acts.verifyBackup({ deployment: 'ledger', file }), (err: Error) => {
      assert.equal(err.name, name);
      assert.match(err.message, message);
      return true;
    });

  it('refuses a truncated file (size differs from the manifest)', async () => {
    cloneBackup(good, 'truncated.dump');
    truncateSync(inDir('truncated.dump'), statSync(inDir(good)).size - 100);
    await refuses('truncated.dump', 'BackupInvalid', /size is \d+ bytes but its manifest says .*nothing was changed/);
  });

  it('refuses a truncated file even when its manifest was made to match (pg_restore --list fails)', async () => {
    cloneBackup(good, 'cut-short.dump', (m, dump) => {
      truncateSync(dump, 300);
      return rehash(m, dump);
    });
    await refuses('cut-short.dump', 'BackupInvalid', /not a readable pg_dump archive.*nothing was changed/);
  });

  it('refuses a tampered byte at the same size (SHA-256 mismatch)', async () => {
    cloneBackup(good, 'tampered.dump');
    const bytes = readFileSync(inDir('tampered.dump'));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(inDir('tampered.dump'), bytes);
    await refuses('tampered.dump', 'BackupInvalid', /SHA-256 checksum .*(altered on disk).*nothing was changed/);
  });

  it('refuses a dump without a manifest', async () => {
    copyFileSync(inDir(good), inDir('no-manifest.dump'));
    await refuses('no-manifest.dump', 'BackupInvalid', /has no manifest/);
  });

  it('refuses a missing file, pointing at `day2 backups`', async () => {
    await refuses('ledger-1999-01-01-000000.dump', 'BadInput', /not found in .*day2 backups/);
  });

  it('refuses names outside the backup directory', async () => {
    await refuses('../x', 'BadInput', /not a bare file name/);
    await refuses('/etc/passwd', 'BadInput', /not a bare file name/);
  });

  it('refuses a foreign archive (a dump of another database), however its manifest reads', async () => {
    const otherUrl = await cluster.createDatabase('other');
    await sql(otherUrl, `CREATE TABLE stuff (x int); INSERT INTO stuff VALUES (1);`);
    const other = await acts.createBackup(run('run-foreign', 'foreign-src.dump'));
    // Take a real dump of `other` with the tool itself, then dress it up as a ledger backup.
    const { execa } = await import('execa');
    const { pgTool } = await import('../../src/lib/pg-tools');
    await execa(pgTool('pg_dump'), ['-Fc', '-f', inDir('foreign.dump'), otherUrl]);
    writeFileSync(
      inDir(manifestNameFor('foreign.dump')),
      JSON.stringify(rehash({ ...other.manifest, file: 'foreign.dump', tocEntries: 3 }, inDir('foreign.dump'))),
    );
    await refuses('foreign.dump', 'BackupInvalid', /dump of database 'other' but its manifest says 'ledger'/);
    writeFileSync(
      inDir(manifestNameFor('foreign.dump')),
      JSON.stringify(rehash({ ...other.manifest, file: 'foreign.dump', database: 'other', tocEntries: 3 }, inDir('foreign.dump'))),
    );
    await refuses('foreign.dump', 'BackupInvalid', /dump of database 'other', but ledger's database is 'ledger'/);
    for (const f of ['foreign.dump', 'foreign-src.dump']) {
      rmSync(inDir(f));
      rmSync(inDir(manifestNameFor(f)));
    }
    await sql(cluster.adminUrl, 'DROP DATABASE other');
  });

  it('refuses a backup of another deployment', async () => {
    cloneBackup(good, 'elsewhere.dump', (m) => ({ ...m, deployment: 'billing' }));
    await refuses('elsewhere.dump', 'BackupInvalid', /belongs to deployment 'billing'/);
  });

  after(() => {
    for (const f of ['truncated.dump', 'cut-short.dump', 'tampered.dump', 'no-manifest.dump', 'elsewhere.dump']) {
      rmSync(inDir(f), { force: true });
      rmSync(inDir(manifestNameFor(f)), { force: true });
    }
  });
});

describe('listBackups and applyRetention', () => {
  const dir = () => path.join(work, 'retention-backups');
  const names = ['r-1.dump', 'r-2.dump', 'r-3.dump', 'r-4.dump'];

  before(async () => {
    for (const [i, fileName] of names.entries()) {
      await acts.createBackup({ ...run(`r${i}`, fileName), deployment: 'retention', createdAt: `2026-11-0${i + 1}T00:00:00.000Z` });
    }
  });

  it('lists backups with a manifest, newest first', async () => {
    writeFileSync(path.join(dir(), 'stray.dump'), 'not a backup');
    const list = await acts.listBackups({ deployment: 'retention' });
    assert.deepEqual(
      list.map((m) => m.file),
      ['r-4.dump', 'r-3.dump', 'r-2.dump', 'r-1.dump'],
    );
  });

  it('keeps the newest 2 of 4, sweeps stale partials, and is idempotent', async () => {
    const stale = path.join(dir(), '.r-9.dump.crashed.partial');
    const fresh = path.join(dir(), '.r-10.dump.running.partial');
    writeFileSync(stale, 'x');
    writeFileSync(fresh, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);

    const first = await acts.applyRetention({ deployment: 'retention', keep: 2 });
    assert.deepEqual(first.deleted.sort(), ['r-1.dump', 'r-2.dump']);
    assert.deepEqual(
      (await acts.listBackups({ deployment: 'retention' })).map((m) => m.file),
      ['r-4.dump', 'r-3.dump'],
    );
    const left = readdirSync(dir()).sort();
    assert.ok(!left.includes('r-1.dump') && !left.includes(manifestNameFor('r-1.dump')));
    assert.ok(!left.includes(path.basename(stale)), 'stale partial swept');
    assert.ok(left.includes(path.basename(fresh)), 'a recent partial may belong to a running backup');
    assert.ok(left.includes('stray.dump'), 'files without a manifest are not ours to delete');

    assert.deepEqual((await acts.applyRetention({ deployment: 'retention', keep: 2 })).deleted, []);
  });

  it('never deletes the newest backup that still verifies, nor a protected one', async () => {
    const newest = path.join(dir(), 'r-4.dump');
    const bytes = readFileSync(newest);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(newest, bytes);
    const outcome = await acts.applyRetention({ deployment: 'retention', keep: 1 });
    assert.deepEqual(outcome.deleted, [], 'r-3 is the newest good backup, so it stays');
    await acts.createBackup({ ...run('r5', 'r-5.dump'), deployment: 'retention', createdAt: '2026-11-09T00:00:00.000Z' });
    const next = await acts.applyRetention({ deployment: 'retention', keep: 1, protect: ['r-4.dump'] });
    assert.deepEqual(next.deleted, ['r-3.dump']);
  });

  it('refuses keep < 1', async () => {
    await assert.rejects(acts.applyRetention({ deployment: 'retention', keep: 0 }), { name: 'BadInput' });
  });
});

describe('restore by staging and swap', () => {
  const file = 'ledger-before-change.dump';
  let backupData: Record<string, string>;
  let changedData: Record<string, string>;

  before(async () => {
    await acts.createBackup(run('run-restore', file));
    backupData = await tableChecksums(liveUrl);
    // Writes after the backup: these are what a restore throws away (and keeps aside).
    await sql(liveUrl, `UPDATE accounts SET balance = balance + 1; DELETE FROM entries WHERE id % 7 = 0; CREATE TABLE later (x int);`);
    changedData = await tableChecksums(liveUrl);
    assert.notDeepEqual(changedData, backupData);
  });

  it('stageRestore fills a fresh staging database with the backup, and is idempotent', async (t) => {
    const started = performance.now();
    assert.deepEqual(await acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'ledger_restore_1' }), {
      stagingDb: 'ledger_restore_1',
    });
    t.diagnostic(`stageRestore of the seed database: ${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(await tableChecksums(cluster.urlFor('ledger_restore_1')), backupData);
    await sql(cluster.urlFor('ledger_restore_1'), "INSERT INTO accounts (name) VALUES ('stray write')");
    await acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'ledger_restore_1' });
    assert.deepEqual(await tableChecksums(cluster.urlFor('ledger_restore_1')), backupData);
    assert.deepEqual(await tableChecksums(liveUrl), changedData, 'the live database is untouched');
  });

  it('refuses to stage into the live database or a system one', async () => {
    await assert.rejects(acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'ledger' }), { name: 'BadInput' });
    await assert.rejects(acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'postgres' }), { name: 'BadInput' });
    await assert.rejects(acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'x'.repeat(64) }), /1–63 bytes/);
  });

  it('swaps the staging database in (terminating sessions), keeping the old one aside; twice is a no-op', async (t) => {
    // A connected "service" would block the rename: the swap must end its session.
    const app = new pg.Client({ connectionString: liveUrl });
    app.on('error', () => {});
    await app.connect();
    const started = performance.now();
    const swapped = await acts.swapInRestoredDatabase({
      deployment: 'ledger',
      stagingDb: 'ledger_restore_1',
      keepAs: 'ledger_pre_restore_20261122110400',
    });
    t.diagnostic(`swap: ${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(swapped, { alreadyDone: false });
    await app.end().catch(() => {});

    assert.deepEqual(await tableChecksums(liveUrl), backupData);
    assert.deepEqual(await tableChecksums(cluster.urlFor('ledger_pre_restore_20261122110400')), changedData);
    assert.ok(!(await databases()).includes('ledger_restore_1'));

    const again = await acts.swapInRestoredDatabase({
      deployment: 'ledger',
      stagingDb: 'ledger_restore_1',
      keepAs: 'ledger_pre_restore_20261122110400',
    });
    assert.deepEqual(again, { alreadyDone: true });
    assert.deepEqual(await tableChecksums(liveUrl), backupData);
  });

  it('refuses a swap when neither the staging database nor the kept one exists', async () => {
    await assert.rejects(
      acts.swapInRestoredDatabase({ deployment: 'ledger', stagingDb: 'ledger_restore_none', keepAs: 'ledger_pre_restore_none' }),
      (err: Error) => err.name === 'BadInput' && /does not exist, and neither does/.test(err.message),
    );
    assert.deepEqual(await tableChecksums(liveUrl), backupData);
  });

  it('dropDatabaseIfExists drops a set-aside database, refuses the live one', async () => {
    await assert.rejects(acts.dropDatabaseIfExists({ deployment: 'ledger', name: 'ledger' }), /live database/);
    assert.deepEqual(await acts.dropDatabaseIfExists({ deployment: 'ledger', name: 'ledger_pre_restore_20261122110400' }), {
      dropped: true,
    });
    assert.deepEqual(await acts.dropDatabaseIfExists({ deployment: 'ledger', name: 'ledger_pre_restore_20261122110400' }), {
      dropped: false,
    });
  });

  it('measures stage + swap together', async (t) => {
    const started = performance.now();
    await acts.stageRestore({ deployment: 'ledger', file, stagingDb: 'ledger_restore_2' });
    await acts.swapInRestoredDatabase({ deployment: 'ledger', stagingDb: 'ledger_restore_2', keepAs: 'ledger_pre_restore_2' });
    t.diagnostic(`stageRestore + swap of the seed database: ${(performance.now() - started).toFixed(0)} ms`);
    assert.deepEqual(await tableChecksums(liveUrl), backupData);
    await acts.dropDatabaseIfExists({ deployment: 'ledger', name: 'ledger_pre_restore_2' });
  });
});

describe('restore without CREATEDB', () => {
  let limitedUrl: string;
  const file = 'limited-backup.dump';
  let backupData: Record<string, string>;
  let changedData: Record<string, string>;

  before(async () => {
    // The service's own role: owns its database, may not create databases.
    await sql(cluster.adminUrl, `CREATE ROLE app LOGIN NOCREATEDB NOSUPERUSER`);
    await cluster.createDatabase('appdb');
    await sql(cluster.adminUrl, `ALTER DATABASE appdb OWNER TO app`);
    limitedUrl = cluster.urlFor('appdb').replace('postgres@', 'app@');
    await seed(limitedUrl);
    writeFileSync(path.join(work, 'limited.env'), `DATABASE_URL=${limitedUrl}\n`);
    await acts.createBackup({ ...run('run-limited', file), deployment: 'limited' });
    backupData = await tableChecksums(limitedUrl);
    // Made after the backup, as a newer migration would: a table, and a view and a foreign
    // key that depend on tables the backup has (they block a plain --clean's DROPs).
    await sql(
      limitedUrl,
      `UPDATE accounts SET name = name || '!'; INSERT INTO audit.events VALUES (now(), '{}');
       CREATE TABLE added_later (y int, account int REFERENCES accounts (id)); CREATE VIEW account_names AS SELECT upper(name) AS n FROM accounts;`,
    );
    changedData = await tableChecksums(limitedUrl);
  });

  it('stageRestore fails with type NoCreateDb and changes nothing', async () => {
    await assert.rejects(acts.stageRestore({ deployment: 'limited', file, stagingDb: 'appdb_restore_1' }), (err: Error) => {
      assert.ok(err instanceof ApplicationFailure, 'an ApplicationFailure the workflow can read the type of');
      assert.equal(err.type, 'NoCreateDb');
      assert.equal(err.nonRetryable, true);
      return true;
    });
    assert.deepEqual(await tableChecksums(limitedUrl), changedData);
  });

  it('restoreInPlace takes a safety dump, then restores in one transaction; twice is harmless', async () => {
    const safetyFile = 'limited-pre-restore-20261122110400.dump';
    const outcome = await acts.restoreInPlace({ deployment: 'limited', file, safetyFile });
    assert.equal(outcome.safetyReused, false);
    assert.deepEqual(outcome.dropped, ['public.account_names (view)', 'public.added_later (table)']);
    assert.deepEqual(await tableChecksums(limitedUrl), backupData, 'exactly the backup: what came later is gone');

    // The safety dump is a verified backup of the data as it was just before.
    const safety = await acts.verifyBackup({ deployment: 'limited', file: safetyFile });
    assert.equal(safety.database, 'appdb');
    await cluster.createDatabase('safety_check');
    const { execa } = await import('execa');
    const { pgTool } = await import('../../src/lib/pg-tools');
    await execa(pgTool('pg_restore'), [
      '--no-owner',
      '--no-acl',
      '-d',
      cluster.urlFor('safety_check'),
      path.join(work, 'limited-backups', safetyFile),
    ]);
    assert.deepEqual(await tableChecksums(cluster.urlFor('safety_check')), changedData);

    const again = await acts.restoreInPlace({ deployment: 'limited', file, safetyFile });
    assert.equal(again.safetyReused, true);
    assert.deepEqual(again.dropped, []);
    assert.deepEqual(await tableChecksums(limitedUrl), backupData);
  });
});

describe('pre-upgrade version', () => {
  it('writes and reads it back; absent reads as null', async () => {
    assert.equal(await acts.readPreUpgradeVersion({ deployment: 'retention' }), null);
    await acts.writePreUpgradeVersion({ deployment: 'limited', version: '2.3.4' });
    assert.equal(await acts.readPreUpgradeVersion({ deployment: 'limited' }), '2.3.4');
    await assert.rejects(acts.writePreUpgradeVersion({ deployment: 'limited', version: 'a\nb' }), { name: 'BadInput' });
  });
});

describe('libpqArgs', () => {
  it('keeps the password off the command line', () => {
    const { dbname, env } = libpqArgs('postgres://app:p%40ss%20word@db.internal:5432/ledger?sslmode=require');
    assert.equal(dbname, 'postgres://app@db.internal:5432/ledger?sslmode=require');
    assert.deepEqual(env, { PGPASSWORD: 'p@ss word' });
    assert.deepEqual(libpqArgs('postgres://app@db/ledger').env, {});
  });
});
