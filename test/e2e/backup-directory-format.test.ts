// backup.format directory end to end: pg_dump -Fd -j 2 with compression, packed into one
// tar that day2 hashes and keeps; restored (staging, in place) and drilled from it; a
// corrupted archive refused before anything changes; a compression method the worker's
// pg_dump lacks refused with what to do; the worker killed during the parallel dump still
// ends with exactly one backup; the one file copied off-site and restored from the bucket.
// Real Temporal, real PostgreSQL, real S3 (versitygw), the real ledger service.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import * as tar from 'tar';
import YAML from 'yaml';
import { must } from '../../examples/ledger-deployment';
import { databaseActivities } from '../../src/activities/database';
import { unpackDirOf, withRestorableArchive } from '../../src/activities/database/restorable-archive';
import { activityDeps } from '../../src/activities/shared/deps';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { parseConfig } from '../../src/config';
import { manifestNameFor } from '../../src/domain/backup-names';
import { BackupInvalidError } from '../../src/domain/errors';
import type { BackupManifest, DrillResult } from '../../src/domain/types';
import { pgToolMajor } from '../../src/lib/pg-tools';
import { createLogger } from '../../src/logger';
import { startE2E, type E2E } from '../harness/e2e';
import { spawnCli } from '../harness/cli';
import { offsiteConfig, startS3 } from '../harness/s3';
import { recordTestSecrets } from '../harness/secret-scan';

const NAME = 'dirfmt';
let e2e: E2E;
let pgDumpMajor: number;
/** zstd where the worker's pg_dump has it (16+), else a gzip level (15 has gzip only). */
const compressionFor = (major: number) => (major >= 16 ? 'zstd:3' : 'gzip:5');

const backupDir = () => e2e.deployment.backupDir;
const inDir = (f: string) => path.join(backupDir(), f);
const dumps = () =>
  readdirSync(backupDir())
    .filter((f) => f.endsWith('.dump'))
    .sort();
const hidden = () => readdirSync(backupDir()).filter((f) => f.startsWith('.') && f !== '.pre-upgrade-version');
const manifestOf = (file: string) => JSON.parse(readFileSync(inDir(manifestNameFor(file)), 'utf8')) as BackupManifest;
const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const liveChecksums = () => tableChecksums(e2e.deployment.databaseUrl);

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function databases(): Promise<string[]> {
  const { rows } = await sql(e2e.pg.adminUrl, `select datname from pg_database where datname like '${NAME}%' order by 1`);
  return rows.map((r) => r.datname as string);
}

/** Edits the deployment's backup section of day2.yaml (the worker reloads it before each activity). */
function editBackupConfig(edit: (backup: Record<string, unknown>) => void): void {
  const file = e2e.deployment.configFile;
  const doc = YAML.parse(readFileSync(file, 'utf8'));
  edit(doc.deployments[NAME].backup);
  writeFileSync(file, YAML.stringify(doc));
}

before(async () => {
  pgDumpMajor = await pgToolMajor('pg_dump');
  e2e = await startE2E(NAME, {
    extra: { backup: { dir: 'backups', keep: 10, format: 'directory', jobs: 2, compression: compressionFor(pgDumpMajor) } },
  });
  await e2e.startService(25);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('backup.format directory', () => {
  let file: string;
  let atBackup: Record<string, string>;

  test('backup: one tar of pg_dump -Fd, compressed members, manifest says directory, SHA-256 of the file as kept', async () => {
    file = await e2e.backup();
    atBackup = await liveChecksums();
    assert.match(file, /^dirfmt-\d{4}-\d{2}-\d{2}-\d{6}\.dump$/);
    const manifest = manifestOf(file);
    assert.equal(manifest.format, 'directory');
    assert.equal(manifest.sha256, sha256Of(inDir(file)));
    assert.equal(manifest.sizeBytes, statSync(inDir(file)).size);
    assert.ok(manifest.tocEntries > 0);
    assert.equal(statSync(inDir(file)).mode & 0o777, 0o600);

    const members: string[] = [];
    await tar.list({ file: inDir(file), onReadEntry: (e) => members.push(e.path) });
    assert.equal(members[0], 'toc.dat', 'the table of contents comes first');
    const data = members.filter((m) => m !== 'toc.dat');
    assert.ok(data.length >= 3, `one member per table's data: ${members.join(', ')}`);
    const suffix = pgDumpMajor >= 16 ? '.dat.zst' : '.dat.gz';
    assert.ok(
      data.every((m) => m.endsWith(suffix)),
      `every data member compressed (${suffix}): ${members.join(', ')}`,
    );
    assert.deepEqual(hidden(), [], 'no partial file or directory is left');
    const listed = await e2e.cli('backups');
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${file} .* sha256 ${manifest.sha256.slice(0, 12)}  directory format$`, 'm'));
  });

  test('restore (staging, pg_restore -j) brings back every table exactly; the unpacked copy is removed', async () => {
    await must(e2e.deployment.ctl('seed', '--entries', '6'), 'seed more');
    assert.notDeepEqual(await liveChecksums(), atBackup);
    const r = await e2e.cli('restore', file, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.deepEqual(await liveChecksums(), atBackup);
    const scan = await e2e.deployment.ctl('scan');
    assert.equal(scan.exitCode, 0, scan.stdout);
    assert.deepEqual(hidden(), [], 'no unpacked directory is left');
  });

  test('drill: the directory-format backup restores in a scratch cluster', async () => {
    const r = await e2e.cli('--json', 'drill', '--backup', file);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as DrillResult;
    assert.equal(result.ok, true, JSON.stringify(result.checks));
    assert.equal(result.tables['public.entries'], 25);
    assert.deepEqual(hidden(), []);
  });

  test('a corrupted archive is refused before anything changes, by restore and drill alike', async () => {
    const before = await liveChecksums();
    const dbsBefore = await databases();
    const bad = 'dirfmt-2001-01-01-000001.dump';
    copyFileSync(inDir(file), inDir(bad));
    writeFileSync(inDir(manifestNameFor(bad)), JSON.stringify({ ...manifestOf(file), file: bad }));
    const bytes = readFileSync(inDir(bad));
    // Inside the compressed data of a member: the tar still parses, only the checksum can tell.
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(inDir(bad), bytes);

    const restore = await e2e.cli('restore', bad, '--yes');
    assert.equal(restore.exitCode, 2, restore.stdout + restore.stderr);
    assert.match(
      restore.stdout + restore.stderr,
      /cannot be used: its SHA-256 checksum is \w+… but its manifest says \w+… \(altered on disk\)/,
    );
    const drill = await e2e.cli('drill', '--backup', bad);
    assert.equal(drill.exitCode, 2, drill.stdout + drill.stderr);
    assert.match(drill.stderr, /SHA-256 checksum/);
    assert.deepEqual(await liveChecksums(), before);
    assert.deepEqual(await databases(), dbsBefore);

    // The unpack for pg_restore checks again (the file may change after the verify step):
    // pg_restore is never handed a directory whose archive does not match its manifest.
    let used = false;
    await assert.rejects(
      withRestorableArchive(backupDir(), bad, 'test-run', async () => {
        used = true;
      }),
      (err: Error) => err instanceof BackupInvalidError && /as unpacked, its SHA-256 is .* altered on disk/.test(err.message),
    );
    assert.equal(used, false);
    assert.equal(existsSync(unpackDirOf(backupDir(), bad, 'test-run')), false, 'the unpacked directory is removed on failure too');
  });

  test('a compression method the worker’s pg_dump lacks is refused with what to do; nothing is written', async (t) => {
    if (pgDumpMajor >= 16) return t.skip('pg_dump 16+ has lz4 and zstd');
    const before = dumps();
    editBackupConfig((b) => (b.compression = 'zstd'));
    try {
      const r = await e2e.cli('backup');
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(
        r.stdout + r.stderr,
        /backup\.compression 'zstd': this worker's pg_dump is version 15, which compresses with gzip only \(zstd needs pg_dump 16 or newer\) — set backup\.compression to a gzip level/,
      );
      assert.deepEqual(dumps(), before);
      assert.deepEqual(hidden(), []);
      // Found out at preflight too, before a backup (or a restore's safety dump) needs it.
      const preflight = await e2e.cli('preflight');
      assert.equal(preflight.exitCode, 1, preflight.stdout + preflight.stderr);
      assert.match(preflight.stdout, /✗ pg_dump can dump the server — backup\.compression 'zstd': this worker's pg_dump is version 15/);
    } finally {
      editBackupConfig((b) => (b.compression = compressionFor(pgDumpMajor)));
    }
  });

  test('the in-place restore (the fallback without CREATEDB) unpacks the directory backup (its safety dump is one too)', async () => {
    const url = await e2e.pg.createDatabase('dirfmt_inplace');
    await sql(url, `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 2000) g;`);
    const envFile = path.join(e2e.dir, 'inplace.env');
    writeFileSync(envFile, `DATABASE_URL=${url}\n`);
    const config = parseConfig(
      {
        deployments: {
          inplace: {
            runtime: { kind: 'commands', start: 'true', stop: 'true' },
            envFile,
            health: { ready: 'http://127.0.0.1:1/health/ready' },
            backup: { dir: 'inplace-backups', format: 'directory', jobs: 2, compression: 1 },
          },
        },
      },
      e2e.dir,
    );
    const acts = databaseActivities(activityDeps({ config, logger: createLogger('test', 'silent') }));
    const run = { deployment: 'inplace', workflowId: 'day2-inplace', createdAt: new Date().toISOString() };
    const taken = await acts.createBackup({ ...run, fileName: 'inplace-a.dump', runId: 'run-a' });
    assert.equal(taken.manifest.format, 'directory');
    const atBackupInPlace = await tableChecksums(url);
    await sql(url, `UPDATE t SET v = 'changed' WHERE id < 100; CREATE TABLE later (x int);`);

    const outcome = await acts.restoreInPlace({
      deployment: 'inplace',
      file: 'inplace-a.dump',
      safetyFile: 'inplace-pre.dump',
      runId: 'run-b',
    });
    assert.deepEqual(outcome.dropped, ['public.later (table)']);
    assert.deepEqual(await tableChecksums(url), atBackupInPlace);
    const safety = await acts.verifyBackup({ deployment: 'inplace', file: 'inplace-pre.dump' });
    assert.equal(safety.format, 'directory');
    assert.deepEqual(
      readdirSync(path.join(e2e.dir, 'inplace-backups')).filter((f) => f.startsWith('.')),
      [],
      'no unpacked or partial directory is left',
    );
  });

  test('off-site: the one file is copied encrypted, and a fresh-host restore from the bucket brings the data back', async () => {
    const s3 = await startS3();
    try {
      const key = randomBytes(32).toString('hex');
      recordTestSecrets(key);
      await s3.createBucket('day2-dirfmt-test');
      appendFileSync(
        e2e.deployment.envFile,
        `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\nOFFSITE_ENCRYPTION_KEY=${key}\n`,
      );
      editBackupConfig((b) => (b.offsite = offsiteConfig(s3, 'day2-dirfmt-test')));
      const copied = await e2e.backup();
      const atCopy = await liveChecksums();
      const local = manifestOf(copied);
      // A fresh host: the local backup is gone; the restore downloads, decrypts and verifies.
      rmSync(inDir(copied));
      rmSync(inDir(manifestNameFor(copied)));
      await must(e2e.deployment.ctl('seed', '--entries', '2'), 'seed more');
      const r = await e2e.cli('restore', '--remote', 'latest', '--yes');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.deepEqual(await liveChecksums(), atCopy);
      assert.deepEqual(manifestOf(copied), local, 'the downloaded manifest is the one written at backup, format directory included');
      assert.equal(sha256Of(inDir(copied)), local.sha256);
    } finally {
      editBackupConfig((b) => delete b.offsite);
      await s3.stop();
    }
  });

  test('the worker killed during the parallel dump: the retry ends with exactly one backup', async () => {
    // Enough rows that pg_dump runs for seconds; the kill lands while its directory grows.
    await sql(
      e2e.deployment.databaseUrl,
      `CREATE TABLE bulk AS SELECT g, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, 1500000) g`,
    );
    const before = dumps();
    const cli = spawnCli(e2e.deployment.configFile, ['--json', 'backup']);
    const deadline = Date.now() + 60_000;
    const dumping = () => hidden().some((f) => f.endsWith('.dir.partial'));
    while (!dumping()) {
      assert.ok(Date.now() < deadline, `pg_dump never started: ${cli.output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const partialTar = hidden().find((f) => /\.partial$/.test(f) && !f.endsWith('.dir.partial') && !f.includes('manifest'));
    assert.equal(partialTar, undefined, 'killed during pg_dump, before packing began');
    await e2e.worker!.kill();
    await e2e.startWorker();
    const { exitCode } = await cli.child;
    assert.equal(exitCode, 0, cli.output());
    const after = dumps();
    const added = after.filter((f) => !before.includes(f));
    assert.equal(added.length, 1, `exactly one new backup: ${added.join(', ')}`);
    const manifest = manifestOf(added[0]!);
    assert.equal(manifest.format, 'directory');
    assert.equal(manifest.sha256, sha256Of(inDir(added[0]!)));
    assert.deepEqual(hidden(), [], "the killed attempt's partial directory is gone");
    const verified = await e2e.cli('drill', '--backup', added[0]!);
    assert.equal(verified.exitCode, 0, verified.stdout + verified.stderr);
    await sql(e2e.deployment.databaseUrl, 'DROP TABLE bulk');
  });
});
