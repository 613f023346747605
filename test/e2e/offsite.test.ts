// Off-site copies end to end, against a real S3-compatible server (versitygw, posix
// backend): backups copied encrypted with remote retention; a bucket that is down, refuses
// the credentials or does not exist leaves the local backup counting and says so (exit 1,
// webhook); a drill and a fresh-host restore from the bucket; a tampered copy refused
// before anything is touched, and so is a copy encrypted with another key; a rollback to a
// copy; the signing keyring brought back to a fresh host; nothing in the bucket readable
// without the key (not even the manifests' database name or versions); the worker
// SIGKILLed mid-upload leaves one complete object and no unfinished multipart upload. One
// deployment, one S3 server for the whole file.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import YAML from 'yaml';
import { pgTool } from '../../src/lib/pg-tools';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import type { RemoteCopy, RemoteManifest } from '../../src/domain/offsite';
import type { BackupResult, DrillResult, OperationEvent } from '../../src/domain/types';
import { spawnCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';
import { offsiteConfig, startS3, type TestS3 } from '../harness/s3';
import { recordTestSecrets } from '../harness/secret-scan';
import { fileVersions, serviceState } from '../harness/upgrade-helpers';

const NAME = 'offsite';
const BUCKET = 'day2-offsite-test';
const PREFIX = `${NAME}/`;
const CANARY = `offsite-canary-${randomBytes(8).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(32).toString('hex');
const KEY_ID = createHash('sha256').update(Buffer.from(ENCRYPTION_KEY, 'hex')).digest('hex').slice(0, 12);
/** A signing keyring as a rotation leaves it beside the backups (src/activities/secrets/signing-keyring.ts):
 * a retired Ed25519 key the service's `ctl scan` accepts. */
const RETIRED_KEY = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
const KEYRING = `${JSON.stringify({ keys: [{ keyId: createHash('sha256').update(RETIRED_KEY).digest('hex').slice(0, 12), publicKey: RETIRED_KEY.toString('base64'), from: null, to: '2026-11-30T00:00:00.000Z' }] }, null, 2)}\n`;

let e2e: E2E;
let s3: TestS3;
let hooks: Server;
const received: OperationEvent[] = [];

const configFile = () => e2e.deployment.configFile;
const offsiteSection = () => offsiteConfig(s3, BUCKET, { keep: 2 });

/** Rewrites day2.yaml's backup.offsite (the worker reloads it before its next activity). */
function setOffsite(change: Record<string, unknown>): void {
  const doc = YAML.parse(readFileSync(configFile(), 'utf8')) as {
    deployments: Record<string, { backup: { offsite: Record<string, unknown> } }>;
  };
  doc.deployments[NAME]!.backup.offsite = { ...offsiteSection(), ...change };
  writeFileSync(configFile(), YAML.stringify(doc));
}

const psql = (sql: string) => execa(pgTool('psql'), [e2e.deployment.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-Atc', sql]);
const localDumps = () =>
  readdirSync(e2e.deployment.backupDir)
    .filter((n) => n.endsWith('.dump'))
    .sort();
const remoteDumps = async () => (await s3.keys(BUCKET, PREFIX)).filter((k) => k.endsWith('.dump')).map((k) => k.slice(PREFIX.length));
const remoteManifest = async (file: string) => {
  const text = readFileSync(s3.objectPath(BUCKET, `${PREFIX}${file}.manifest.json`), 'utf8');
  return JSON.parse(text) as RemoteManifest;
};
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const keyringFile = () => path.join(e2e.deployment.backupDir, 'keyring.json');
/** Every file under a directory (the posix backend's objects, and whatever it keeps beside them). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? filesUnder(path.join(dir, n)) : [path.join(dir, n)]));

before(async () => {
  recordTestSecrets(ENCRYPTION_KEY);
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as OperationEvent);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  e2e = await startE2E(NAME, { extra: { notify: { webhookUrl: hookUrl } } });
  setOffsite({});
  appendFileSync(
    e2e.deployment.envFile,
    `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\nOFFSITE_ENCRYPTION_KEY=${ENCRYPTION_KEY}\n`,
  );
  await e2e.startService(10);
  mkdirSync(e2e.deployment.backupDir, { recursive: true });
  writeFileSync(keyringFile(), KEYRING, { mode: 0o600 });
  await psql(`create table offsite_canary (note text); insert into offsite_canary values ('${CANARY}')`);
  await e2e.startWorker();
});
after(async () => {
  await e2e?.teardown();
  await s3?.stop();
  hooks?.close();
});

/** Per-table checksums when the newest remote copy was taken: what a restore must bring back. */
let atNewestCopy: Record<string, string>;

describe('off-site copies (S3, versitygw)', () => {
  test('a backup is copied encrypted and verified; remote retention keeps exactly backup.offsite.keep', async () => {
    const files = [await e2e.backup(), await e2e.backup(), await e2e.backup()];
    atNewestCopy = await tableChecksums(e2e.deployment.databaseUrl);
    assert.deepEqual(localDumps(), files, 'local retention (keep 5) kept all three');
    assert.deepEqual(await remoteDumps(), files.slice(1), 'the bucket keeps the newest 2');
    const keys = await s3.keys(BUCKET, PREFIX);
    assert.deepEqual(keys, [`${PREFIX}keyring.json`, ...files.slice(1).flatMap((f) => [`${PREFIX}${f}`, `${PREFIX}${f}.manifest.json`])]);
    assert.deepEqual(await s3.unfinishedUploads(BUCKET), []);

    const newest = files[2]!;
    const m = await remoteManifest(newest);
    const local = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${newest}.manifest.json`), 'utf8')) as {
      sha256: string;
      sizeBytes: number;
    };
    assert.equal(m.sha256, local.sha256);
    assert.equal(m.object.encrypted, true);
    assert.equal(m.object.keyId, KEY_ID);
    const raw = readFileSync(s3.objectPath(BUCKET, `${PREFIX}${newest}`));
    assert.equal(raw.length, m.object.sizeBytes);
    assert.equal(createHash('sha256').update(raw).digest('hex'), m.object.sha256, 'the manifest records the SHA-256 of what was sent');
    // The local dump is a pg_dump archive holding the canary row; the bucket's copy is neither.
    const plain = await execa(pgTool('pg_restore'), [
      '--data-only',
      '--table=offsite_canary',
      '-f',
      '-',
      path.join(e2e.deployment.backupDir, newest),
    ]);
    assert.match(plain.stdout, new RegExp(CANARY));
    assert.equal(readFileSync(path.join(e2e.deployment.backupDir, newest)).subarray(0, 5).toString(), 'PGDMP');
    assert.notEqual(raw.subarray(0, 5).toString(), 'PGDMP');
    assert.equal(raw.includes(Buffer.from(CANARY)), false, 'the raw object does not hold the row in the clear');
    assert.equal(raw.includes(Buffer.from('offsite_canary')), false, 'nor even the table name');
    // Nothing in the bucket is readable without the key: the manifest keeps in the clear only
    // what listing needs (file, time, sizes, checksums, key id); database name, server and app
    // version and workflow are sealed; the keyring is ciphertext.
    const full = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${newest}.manifest.json`), 'utf8')) as {
      database: string;
      serverVersion: string;
      appVersion: string;
      workflowId: string;
    };
    assert.equal(m.backup, undefined, 'no plain local manifest in the remote one');
    assert.match(m.sealed ?? '', new RegExp(`^DAY2SEAL1:${KEY_ID}:`));
    // (The database is named like the deployment here: `"offsite"` as a JSON value.)
    const clearText = [
      `"${full.database}"`,
      `"${full.serverVersion}"`,
      `"${full.appVersion}"`,
      `"${full.workflowId}"`,
      '"database"',
      '"serverVersion"',
      '"appVersion"',
      CANARY,
      'offsite_canary',
      JSON.parse(KEYRING).keys[0].publicKey as string,
    ];
    const stored = filesUnder(path.join(s3.root, BUCKET));
    assert.ok(stored.some((f) => f.endsWith('keyring.json')) && stored.some((f) => f.endsWith('.manifest.json')));
    for (const f of stored) {
      const bytes = readFileSync(f);
      for (const text of clearText)
        assert.equal(bytes.includes(Buffer.from(text)), false, `${path.relative(s3.root, f)} holds ${text} in the clear`);
    }
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${newest}`, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, m.object.serverChecksum, 'the server checksummed what it accepted: it matches ours');

    const listed = await e2e.cli('backups');
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${files[0]}  .*  NO off-site copy$`, 'm'));
    assert.match(listed.stdout, new RegExp(`^${newest}  .*  off-site ✓$`, 'm'));
    const remote = await e2e.cli('--json', 'backups', '--remote');
    assert.equal(remote.exitCode, 0, remote.stderr);
    const copies = JSON.parse(remote.stdout) as RemoteCopy[];
    assert.deepEqual(
      copies.map((c) => [c.file, c.verified, c.encrypted, c.appVersion]),
      [
        [newest, true, true, full.appVersion],
        [files[1], true, true, full.appVersion],
      ],
      'the key opens the sealed app version',
    );
    const human = await e2e.cli('backups', '--remote');
    assert.match(human.stdout, new RegExp(`^${newest}  .*  encrypted \\(key ${m.object.keyId}\\)  verified$`, 'm'));
    const ok = received.filter((e) => e.operation === 'backup').at(-1)!;
    assert.equal(ok.outcome, 'succeeded');
    assert.match(ok.detail, new RegExp(`off-site copy ${PREFIX}${newest}`));
  });

  test('bucket down, wrong credentials, missing bucket: the local backup is kept and counts; exit 1 says the off-site copy FAILED', async () => {
    const cases: Array<{ what: string; apply: () => void; undo: () => void; why: RegExp }> = [
      {
        what: 'bucket down',
        apply: () => setOffsite({ endpoint: 'http://127.0.0.1:9' }),
        undo: () => setOffsite({}),
        why: /cannot reach the S3 server http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
      },
      {
        what: 'wrong credentials',
        apply: () => {
          const wrong = randomBytes(30).toString('base64url');
          recordTestSecrets(wrong);
          const env = readFileSync(e2e.deployment.envFile, 'utf8');
          writeFileSync(e2e.deployment.envFile, env.replace(`S3_SECRET_ACCESS_KEY=${s3.secretAccessKey}`, `S3_SECRET_ACCESS_KEY=${wrong}`));
        },
        undo: () => {
          const env = readFileSync(e2e.deployment.envFile, 'utf8');
          writeFileSync(e2e.deployment.envFile, env.replace(/^S3_SECRET_ACCESS_KEY=.*$/m, `S3_SECRET_ACCESS_KEY=${s3.secretAccessKey}`));
        },
        why: /refused the credentials \(SignatureDoesNotMatch\) — check S3_ACCESS_KEY_ID \/ S3_SECRET_ACCESS_KEY in the env file/,
      },
      {
        what: 'missing bucket',
        apply: () => setOffsite({ bucket: 'day2-no-such-bucket' }),
        undo: () => setOffsite({}),
        why: /bucket 'day2-no-such-bucket' does not exist on http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket\)/,
      },
    ];
    const remoteBefore = await s3.keys(BUCKET, PREFIX);
    const failed: string[] = [];
    for (const c of cases) {
      c.apply();
      try {
        const r = await e2e.cli('--json', 'backup');
        assert.equal(r.exitCode, 1, `${c.what}: ${r.stdout}${r.stderr}`);
        const out = JSON.parse(r.stdout) as { status: string; result: BackupResult; progress: { outcome: string } };
        assert.equal(out.status, 'COMPLETED');
        assert.equal(out.result.outcome, 'offsite-failed');
        assert.match(out.progress.outcome, /^backed up locally; off-site copy FAILED: /);
        assert.match(out.progress.outcome, c.why, c.what);
        const file = out.result.file;
        assert.ok(
          existsSync(path.join(e2e.deployment.backupDir, file)) && existsSync(path.join(e2e.deployment.backupDir, `${file}.manifest.json`)),
          `${c.what}: the local backup is kept`,
        );
        assert.equal(sha256(path.join(e2e.deployment.backupDir, file)), out.result.manifest.sha256);
        const event = received.filter((e) => e.operation === 'backup').at(-1)!;
        assert.equal(event.outcome, 'failed', c.what);
        assert.match(event.detail, /^backed up locally; off-site copy FAILED: /);
        failed.push(file);
        if (c.what === 'bucket down') {
          const listed = await e2e.cli('backups');
          assert.match(listed.stderr, /off-site copies unknown: could not list offsite's off-site copies: cannot reach the S3 server/);
        }
      } finally {
        c.undo();
      }
    }
    assert.deepEqual(await s3.keys(BUCKET, PREFIX), remoteBefore, 'nothing was written to, or deleted from, the bucket');
    const listed = await e2e.cli('backups');
    for (const file of failed)
      assert.match(listed.stdout, new RegExp(`^${file}  .*  NO off-site copy$`, 'm'), '`day2 backups` shows which have no off-site copy');
    const human = await e2e.cli('backup', '--keep', '10');
    assert.equal(human.exitCode, 0, 'with the bucket back, the next backup is copied');
    assert.match(human.stdout, /off-site copy verified/);
  });

  test('day2 drill --remote latest downloads the newest copy, verifies it and drills it', async () => {
    const [newest] = await remoteDumps().then((d) => d.reverse());
    rmSync(path.join(e2e.deployment.backupDir, newest!));
    rmSync(path.join(e2e.deployment.backupDir, `${newest}.manifest.json`));
    const r = await e2e.cli('--json', 'drill', '--remote', 'latest');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as DrillResult;
    assert.equal(result.file, newest);
    assert.equal(result.tables['public.offsite_canary'], 1);
    assert.ok(existsSync(path.join(e2e.deployment.backupDir, newest!)), 'the copy is in the backup directory now');
  });

  test('fresh host: the backup directory deleted, day2 restore --remote latest --yes brings every table back', async () => {
    // The newest copy is the one the previous test's backup made: its data is today's.
    atNewestCopy = await tableChecksums(e2e.deployment.databaseUrl);
    await psql(`delete from offsite_canary; insert into offsite_canary values ('written after the backup')`);
    rmSync(e2e.deployment.backupDir, { recursive: true, force: true });
    const started = Date.now();
    const r = await e2e.cli('restore', '--remote', 'latest', '--yes');
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Fetch off-site copy.*offsite-\S+\.dump, [\d.]+ (B|KiB|MiB), downloaded in [\d.]+ s; keyring fetched/);
    assert.deepEqual(await tableChecksums(e2e.deployment.databaseUrl), atNewestCopy, 'every table as it was at the backup');
    assert.equal(readFileSync(keyringFile(), 'utf8'), KEYRING, 'the signing keyring is back, decrypted, as it was');
    assert.equal(statSync(keyringFile()).mode & 0o777, 0o600);
    console.log(`fresh-host recovery (day2 restore --remote latest --yes, CLI wall time): ${seconds.toFixed(1)} s`);
  });

  test('a tampered copy in the bucket is refused before anything is touched (exit 2)', async () => {
    const [newest] = await remoteDumps().then((d) => d.reverse());
    rmSync(path.join(e2e.deployment.backupDir, newest!));
    rmSync(path.join(e2e.deployment.backupDir, `${newest}.manifest.json`));
    const object = s3.objectPath(BUCKET, `${PREFIX}${newest}`);
    const bytes = readFileSync(object);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(object, bytes);
    const live = await tableChecksums(e2e.deployment.databaseUrl);
    const before = readdirSync(e2e.deployment.backupDir).sort();
    const r = await e2e.cli('restore', '--remote', newest!, '--yes');
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    // The server's stored checksum catches it first; were it not kept, the AES-GCM tag would.
    assert.match(
      r.stderr,
      new RegExp(
        `off-site copy ${newest} cannot be used: (its bytes do not match the checksum the server stored|it does not authenticate at chunk \\d+)[^;]*; nothing was changed`,
      ),
    );
    assert.deepEqual(await tableChecksums(e2e.deployment.databaseUrl), live, 'the database is untouched');
    assert.deepEqual(readdirSync(e2e.deployment.backupDir).sort(), before, 'nothing left in the backup directory');
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(object, bytes);
  });

  test('a copy encrypted with another key is refused end to end: exit 2, the key ids named, nothing changed', async () => {
    const [newest] = await remoteDumps().then((d) => d.reverse());
    rmSync(path.join(e2e.deployment.backupDir, newest!), { force: true });
    rmSync(path.join(e2e.deployment.backupDir, `${newest}.manifest.json`), { force: true });
    rmSync(keyringFile(), { force: true });
    const otherKey = randomBytes(32).toString('hex');
    recordTestSecrets(otherKey);
    const otherId = createHash('sha256').update(Buffer.from(otherKey, 'hex')).digest('hex').slice(0, 12);
    const env = readFileSync(e2e.deployment.envFile, 'utf8');
    writeFileSync(e2e.deployment.envFile, env.replace(`OFFSITE_ENCRYPTION_KEY=${ENCRYPTION_KEY}`, `OFFSITE_ENCRYPTION_KEY=${otherKey}`));
    try {
      const live = await tableChecksums(e2e.deployment.databaseUrl);
      const before = readdirSync(e2e.deployment.backupDir).sort();
      const r = await e2e.cli('restore', '--remote', 'latest', '--yes');
      assert.equal(r.exitCode, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `off-site copy ${newest} cannot be used: it was encrypted with key ${KEY_ID}, but OFFSITE_ENCRYPTION_KEY holds key ${otherId}; nothing was changed`,
        ),
      );
      assert.deepEqual(await tableChecksums(e2e.deployment.databaseUrl), live, 'the database is untouched');
      assert.deepEqual(
        readdirSync(e2e.deployment.backupDir).sort(),
        before,
        'nothing written to the backup directory (no dump, no keyring)',
      );
      const listed = await e2e.cli('backups', '--remote');
      assert.match(listed.stdout, new RegExp(`^${newest}  .*  encrypted \\(key ${KEY_ID}\\)`, 'm'), 'listing names the key a copy needs');
    } finally {
      writeFileSync(e2e.deployment.envFile, env);
    }
    writeFileSync(keyringFile(), KEYRING, { mode: 0o600 });
  });

  test('day2 rollback --remote NAME: the release and the data as at the pre-upgrade backup, fetched from the bucket', async () => {
    const atBackup = await tableChecksums(e2e.deployment.databaseUrl); // nothing writes between this and the upgrade's backup
    const u = await e2e.cli('--json', 'upgrade', '1.1.0');
    assert.equal(u.exitCode, 0, u.stdout + u.stderr);
    const backup = (JSON.parse(u.stdout) as { result: { backup: string } }).result.backup;
    assert.ok((await remoteDumps()).includes(backup), 'the pre-upgrade backup was copied off-site');
    await psql(`insert into offsite_canary values ('written after the upgrade')`); // what the rollback loses
    rmSync(path.join(e2e.deployment.backupDir, backup));
    rmSync(path.join(e2e.deployment.backupDir, `${backup}.manifest.json`));
    const r = await e2e.cli('--json', 'rollback', '--remote', backup, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const { result } = JSON.parse(r.stdout) as { result: { outcome: string; from: string; version: string; backup: string } };
    assert.deepEqual(
      { outcome: result.outcome, from: result.from, version: result.version, backup: result.backup },
      { outcome: 'rolled-back', from: '1.1.0', version: '1.0.0', backup },
    );
    assert.deepEqual(await tableChecksums(e2e.deployment.databaseUrl), atBackup, "the backup's data, every table");
    assert.deepEqual(await serviceState(e2e.deployment.baseUrl), { version: '1.0.0', ready: true });
    assert.deepEqual(fileVersions(e2e), { env: '1.0.0', file: '1.0.0' });
    assert.equal(
      sha256(path.join(e2e.deployment.backupDir, backup)),
      (await remoteManifest(backup)).sha256,
      'the fetched dump is the backup',
    );
  });

  test('the worker SIGKILLed mid-upload: the retry aborts the orphaned multipart upload and leaves one complete, matching object', async () => {
    // Big enough for a multipart upload (parts of 8 MiB): random hex compresses only ~2×.
    await psql('create table offsite_filler as select md5(random()::text) || md5(random()::text) as v from generate_series(1, 700000)');
    try {
      await e2e.worker!.stop();
      const paused = await e2e.startWorker({ DAY2_TEST_PAUSE: 'copyOffsite@mid', DAY2_TEST_PAUSE_SECONDS: '120' });
      const cli = spawnCli(configFile(), ['--json', 'backup']);
      const deadline = Date.now() + 120_000;
      while (!(
        readFileSync(paused.logFile, 'utf8').includes('"msg":"test pause"') && (await s3.unfinishedUploads(BUCKET, PREFIX)).length > 0
      )) {
        assert.ok(Date.now() < deadline, 'the upload reached its pause point with a multipart upload open');
        await new Promise((r) => setTimeout(r, 200));
      }
      await paused.kill();
      assert.equal((await s3.unfinishedUploads(BUCKET, PREFIX)).length, 1, 'the killed attempt left its multipart upload behind');
      await e2e.startWorker();
      const result = await cli.child;
      assert.equal(result.exitCode, 0, cli.output());
      const { file } = (await e2e.temporal.client.workflow.getHandle(e2e.workflowId).result()) as BackupResult;
      assert.deepEqual(await s3.unfinishedUploads(BUCKET), [], 'ListMultipartUploads is empty');
      const m = await remoteManifest(file);
      assert.match(m.object.serverChecksum ?? '', /-\d+$/, 'sent as a multipart upload');
      assert.equal(sha256(s3.objectPath(BUCKET, `${PREFIX}${file}`)), m.object.sha256, 'one complete object whose checksum matches');
      assert.equal((await remoteDumps()).filter((f) => f === file).length, 1);
    } finally {
      await psql('drop table if exists offsite_filler');
    }
  });
});
