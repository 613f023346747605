// The operations of the crash matrix (test/harness/crash-matrix.ts) and the deployment they
// share: one ledger deployment, reset by each operation's `prepare` to that operation's
// exact starting state. Used by the whole matrix (test/crash/crash-matrix.test.ts) and by
// its smoke subset in `npm test` (test/e2e/crash-matrix-smoke.test.ts).
//
// Starting states are snapshots: the live database copied to a template database
// (`CREATE DATABASE … TEMPLATE`, a file copy: fast, and byte-for-byte the same rows), the
// env file, the VERSION file and the backup directory's non-backup files. Returning to one
// stops the service, re-creates the live database from the template, writes the files
// back and starts the service on them.
//
// What is normalised, and why (everything else is compared as it is):
// - upgrade: the `applied_at` of schema_migrations and the `at` of migration_log are now()
//   of the migration run, so they differ on every run; the tables are compared without
//   those two columns, and migration_log's rows (target release, migration ids), in order,
//   are compared on their own: the migrations ran exactly as often as uncrashed.
// - rotate-api-key-secret: the new API_KEY_SECRET is 32 random bytes, different on every
//   run, and so is what is derived from it (api_keys.mac, .sealed_digest — also under a
//   random IV — and .secret_fp). The env file is compared with the secret's value replaced
//   by what it must be ("64 hex, not the starting secret"); api_keys without those three
//   columns; and instead: every key's secret_fp is the fingerprint of the final secret,
//   the previous secret is gone, and a key made before the rotation authenticates after it.
// - every operation: secret-named env values are compared by fingerprint (as strict as
//   the value, and a failure detail never prints a secret).
//
// Equal to the uncrashed run is not enough if the uncrashed run is wrong, so each new
// operation's `check` also says what its end state must be, for every case and the
// reference: upgrade — 1.1.0 in the env file, VERSION and /conformance, ready, and
// migration_log exactly [the 1.0.0 run, one 1.1.0 run applying 0004_audit_events],
// .pre-upgrade-version 1.0.0; rollback — 1.0.0 everywhere, ready; rotation — the checks above;
// backup — its off-site copy (backup.offsite, on a versitygw started with the fixture): the
// bucket holds exactly the dump and its manifest, the object's SHA-256 is the manifest's,
// and no multipart upload is left unfinished (so a retry never uploaded twice or orphaned
// parts). The bucket is emptied before every backup case.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AbortMultipartUploadCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import YAML from 'yaml';
import { must } from '../../examples/ledger-deployment';
import { readEnvFile } from '../../src/envfile';
import { quoteIdent, withClient } from '../../src/activities/shared/pg-connection';
import { fingerprint } from '../../src/activities/shared/secret-fingerprint';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import type { RollbackInput, UpgradeInput } from '../../src/domain/release-types';
import type { RotateApiKeySecretInput } from '../../src/domain/rotation';
import type { BackupInput, RestoreInput } from '../../src/domain/types';
import { CrashMatrix, maskEnvSecrets, type CrashOperation, type EndState, type KillPoint } from './crash-matrix';
import { startE2E, type E2E } from './e2e';
import { createKey, whoami } from './rotation';
import { offsiteConfig, startS3, type TestS3 } from './s3';
import { harvestEnvSecrets, recordTestSecrets } from './secret-scan';

/** The matrix's operations, in the order they run (test files name them before the
 * fixture exists). */
export const CRASH_OPERATIONS = ['backup', 'restore', 'upgrade', 'rollback', 'rotate-api-key-secret'] as const;

/** The upgrade of the matrix, and the release the rollback returns to. */
export const FROM = '1.0.0';
export const TO = '1.1.0';

interface Snapshot {
  template: string;
  envFile: string;
  versionFile: string;
  /** The backup directory's files that are not backups (e.g. .pre-upgrade-version). */
  backupDirFiles: Record<string, string>;
}

export interface CrashFixture {
  e2e: E2E;
  matrix: CrashMatrix;
  operations: CrashOperation[];
  /** Per operation, the two cases of the smoke subset: one step boundary, one inside an activity. */
  smoke: Record<(typeof CRASH_OPERATIONS)[number], KillPoint[]>;
  teardown(): Promise<void>;
}

const isBackupFile = (f: string) => f.endsWith('.dump') || f.endsWith('.manifest.json') || f.includes('.partial');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A deployment `name` at 1.0.0 with seeded entries, a backup for the restore, and an API
 * key for the rotation to keep working; the operations' shared starting point. */
export async function startCrashFixture(name: string): Promise<CrashFixture> {
  // Checked before anything is started, so a typo leaves no server behind.
  const format = process.env.DAY2_CRASH_BACKUP_FORMAT;
  if (format !== undefined && format !== 'custom' && format !== 'directory') {
    throw new Error(`DAY2_CRASH_BACKUP_FORMAT must be custom or directory, not '${format}'`);
  }
  const e2e = await startE2E(name);
  const d = e2e.deployment;
  const live = new URL(d.databaseUrl).pathname.slice(1);
  const snapshots: Snapshot[] = [];
  const s3 = await startS3();
  const bucket = `day2-crash-${name}`;
  const prefix = `${name}/`;
  await s3.createBucket(bucket);
  configureOffsite(e2e, s3, bucket);
  // DAY2_CRASH_BACKUP_FORMAT=directory: every backup of the matrix (the restore's source
  // too) is pg_dump -Fd -j 2 packed into one file, so its kill points are that path's.
  if (format) configureBackupFormat(e2e, format);

  await e2e.startService(20);
  await e2e.startWorker();
  /** The backup every restore case restores. */
  const source = await e2e.backup();
  await e2e.worker!.stop();
  e2e.worker = undefined;
  /** Made before every rotation (it is in the baseline): must authenticate after it. */
  const keyBefore = await createKey(d.envFile, 'made-before-rotation');
  const matrix = new CrashMatrix(e2e);

  /** Backups every case keeps: the restore's source, and the rollback's (once taken). */
  const fixtureBackups = [source];

  /** Empties the bucket (copies, and unfinished uploads of earlier cases). */
  async function emptyBucket(): Promise<void> {
    for (const u of await s3.unfinishedUploads(bucket)) {
      await s3.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
    }
    for (const key of await s3.keys(bucket)) await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** The bucket as the backup's end state: keys (stamps normalised; the keyring left out, it
   * follows the backup directory's), each dump's SHA-256 against its manifest, unfinished
   * multipart uploads. */
  async function bucketState(): Promise<Record<string, unknown>> {
    const keys = (await s3.keys(bucket, prefix)).filter((k) => !k.endsWith('keyring.json'));
    const copies = keys
      .filter((k) => k.endsWith('.dump'))
      .map((k) => {
        const m = JSON.parse(readFileSync(s3.objectPath(bucket, `${k}.manifest.json`), 'utf8')) as { object: { sha256: string } };
        const sha = createHash('sha256')
          .update(readFileSync(s3.objectPath(bucket, k)))
          .digest('hex');
        return { key: k.replace(/\d{4}-\d{2}-\d{2}-\d{6}/g, '<stamp>'), matchesManifest: sha === m.object.sha256 };
      });
    return {
      bucketKeys: keys.map((k) => k.replace(/\d{4}-\d{2}-\d{2}-\d{6}/g, '<stamp>')),
      bucketCopies: copies,
      unfinishedUploads: (await s3.unfinishedUploads(bucket)).length,
    };
  }

  /** Removes backups other than the fixtures', and databases other than the live one
   * (kept-aside and staging databases of earlier cases). */
  async function resetLeftovers(): Promise<void> {
    for (const f of readdirSync(d.backupDir)) {
      // recursive: a crashed directory-format backup leaves a `.dir.partial` directory.
      if (isBackupFile(f) && !fixtureBackups.some((keep) => f.startsWith(keep))) rmSync(path.join(d.backupDir, f), { recursive: true });
    }
    await withClient(e2e.pg.adminUrl, async (c) => {
      const { rows } = await c.query<{ datname: string }>(`select datname from pg_database where datname like '${live}\\_%'`);
      for (const { datname } of rows) await c.query(`drop database ${quoteIdent(datname)} with (force)`);
    });
  }

  /** Copies the deployment's state into a snapshot (the service is stopped meanwhile: a
   * template must have no sessions). */
  async function takeSnapshot(label: string): Promise<Snapshot> {
    const template = `tpl_${live}_${label}`;
    await must(d.ctl('stop'), 'stop');
    await withClient(e2e.pg.adminUrl, async (c) => {
      await c.query(`drop database if exists ${quoteIdent(template)} with (force)`);
      await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [live]);
      await c.query(`create database ${quoteIdent(template)} template ${quoteIdent(live)}`);
    });
    const backupDirFiles: Record<string, string> = {};
    for (const f of readdirSync(d.backupDir).filter((x) => !isBackupFile(x)))
      backupDirFiles[f] = readFileSync(path.join(d.backupDir, f), 'utf8');
    const snapshot = {
      template,
      envFile: readFileSync(d.envFile, 'utf8'),
      versionFile: readFileSync(d.versionFile, 'utf8'),
      backupDirFiles,
    };
    snapshots.push(snapshot);
    await startReady();
    return snapshot;
  }

  /** The deployment exactly as at `s`, running. */
  async function returnTo(s: Snapshot): Promise<void> {
    await resetLeftovers();
    await must(d.ctl('stop'), 'stop');
    await withClient(e2e.pg.adminUrl, async (c) => {
      await c.query(`drop database if exists ${quoteIdent(live)} with (force)`);
      await c.query(`create database ${quoteIdent(live)} template ${quoteIdent(s.template)}`);
    });
    writeFileSync(d.envFile, s.envFile, { mode: 0o600 });
    writeFileSync(d.versionFile, s.versionFile);
    for (const f of readdirSync(d.backupDir))
      if (!isBackupFile(f) && !(f in s.backupDirFiles)) rmSync(path.join(d.backupDir, f), { recursive: true });
    for (const [f, text] of Object.entries(s.backupDirFiles)) writeFileSync(path.join(d.backupDir, f), text);
    await startReady();
  }

  async function startReady(): Promise<void> {
    await must(d.ctl('start'), 'start');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await fetch(`${d.baseUrl}/health/ready`)
        .then((res) => (res.body?.cancel(), res.status))
        .catch(() => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${d.name} not ready after a reset (last status ${status})`);
      await sleep(100);
    }
  }

  const baseline = await takeSnapshot('baseline');
  const startSecret = (await readEnvFile(d.envFile)).get('API_KEY_SECRET')!;

  /** The rollback's starting point: upgraded to TO by day2 itself (so the pre-upgrade
   * backup it rolls back to is a real one), taken once, when the rollback first needs it. */
  let upgraded: Promise<{ snapshot: Snapshot; backup: string }> | undefined;
  const upgradedState = () =>
    (upgraded ??= (async () => {
      await returnTo(baseline);
      // The matrix's own workers run it (the pause control file is empty between cases).
      const u = await e2e.cli('--json', 'upgrade', TO);
      assert.equal(u.exitCode, 0, u.stdout + u.stderr);
      const backup = (JSON.parse(u.stdout) as { result: { backup: string } }).result.backup;
      fixtureBackups.push(backup);
      return { snapshot: await takeSnapshot('upgraded'), backup };
    })());

  const operations: CrashOperation[] = [
    {
      name: 'backup',
      workflowType: 'backup',
      input: (x): BackupInput => ({ deployment: x.deployment.name }),
      async prepare() {
        await resetLeftovers();
        await emptyBucket();
      },
      extraState: bucketState,
      check: (s) => {
        const stem = `${prefix}${name}-<stamp>.dump`;
        const out: string[] = [];
        if (JSON.stringify(s.extra.bucketKeys) !== JSON.stringify([stem, `${stem}.manifest.json`]))
          out.push(`the bucket holds ${JSON.stringify(s.extra.bucketKeys)}, expected one copy and its manifest`);
        if (JSON.stringify(s.extra.bucketCopies) !== JSON.stringify([{ key: stem, matchesManifest: true }]))
          out.push(`off-site copies ${JSON.stringify(s.extra.bucketCopies)}: the object's SHA-256 must be its manifest's`);
        if (s.extra.unfinishedUploads !== 0) out.push(`${String(s.extra.unfinishedUploads)} multipart uploads left unfinished`);
        return out;
      },
    },
    {
      name: 'restore',
      workflowType: 'restore',
      input: (x): RestoreInput => ({ deployment: x.deployment.name, file: source, yes: true }),
      async prepare(x) {
        await resetLeftovers();
        // Something for the restore to undo: a table the backup does not have.
        await withClient(x.deployment.databaseUrl, (c) =>
          c.query('create table if not exists crash_marker (at timestamptz default now()); insert into crash_marker default values'),
        );
      },
      // The swap renames the live database: done, result unreported, is its riskiest retry.
      extraPoints: [{ kind: 'activity', activity: 'swapInRestoredDatabase', at: 'end' }],
    },
    {
      name: 'upgrade',
      workflowType: 'upgrade',
      input: (x): UpgradeInput => ({ deployment: x.deployment.name, version: TO }),
      prepare: () => returnTo(baseline),
      restartDuring: 'runMigrations',
      extraPoints: [{ kind: 'activity', activity: 'writeReleaseVersion', at: 'end' }],
      tables: (x) =>
        checksumsWithout(x.deployment.databaseUrl, { 'public.schema_migrations': ['applied_at'], 'public.migration_log': ['at'] }),
      extraState: async (x) => ({ migrationLog: await migrationLog(x.deployment.databaseUrl) }),
      check: (s) => [
        ...expectService(s, TO),
        ...expectVersionFiles(s, TO),
        ...(JSON.stringify(s.extra.migrationLog) ===
        JSON.stringify([
          { target: FROM, applied: ['0001_migration_log', '0002_entries', '0003_api_keys'] },
          { target: TO, applied: ['0004_audit_events'] },
        ])
          ? []
          : [`migration_log is ${JSON.stringify(s.extra.migrationLog)}: the migrations to ${TO} did not run exactly once`]),
        ...(s.backupDirFiles['.pre-upgrade-version'] === `${FROM}\n`
          ? []
          : [`.pre-upgrade-version is ${JSON.stringify(s.backupDirFiles['.pre-upgrade-version'])}`]),
      ],
    },
    {
      name: 'rollback',
      workflowType: 'rollback',
      // Named, not "the newest that verifies": the matrix's backups are the fixtures'.
      input: (x): RollbackInput => ({ deployment: x.deployment.name, backup: fixtureBackups[1] }),
      async prepare() {
        await returnTo((await upgradedState()).snapshot);
      },
      restartDuring: 'stageRestore',
      extraPoints: [
        { kind: 'activity', activity: 'writeReleaseVersion', at: 'end' },
        { kind: 'activity', activity: 'swapInRestoredDatabase', at: 'end' },
      ],
      check: (s) => [...expectService(s, FROM), ...expectVersionFiles(s, FROM)],
    },
    {
      name: 'rotate-api-key-secret',
      workflowType: 'rotateApiKeySecret',
      input: (x): RotateApiKeySecretInput => ({ deployment: x.deployment.name }),
      prepare: () => returnTo(baseline),
      restartDuring: 'rehashApiKeys',
      extraPoints: [
        // The new secret is written, the result unreported: the retry must not write another.
        { kind: 'activity', activity: 'beginApiKeyRotation', at: 'end' },
        { kind: 'activity', activity: 'removePreviousApiKeySecret', at: 'end' },
      ],
      tables: (x) => checksumsWithout(x.deployment.databaseUrl, { 'public.api_keys': ['mac', 'sealed_digest', 'secret_fp'] }),
      envFile: (text) =>
        maskEnvSecrets(
          text.replace(
            /^API_KEY_SECRET=(.*)$/m,
            (_, v: string) =>
              `API_KEY_SECRET=${/^[0-9a-f]{64}$/.test(v) && v !== startSecret ? '<new: 64 hex, not the starting secret>' : `<not rotated: fp ${fingerprint(v)}>`}`,
          ),
        ),
      async extraState(x) {
        harvestEnvSecrets(x.deployment.envFile); // this case's new secret, for the suite's secret scan
        const env = await readEnvFile(x.deployment.envFile);
        const current = env.get('API_KEY_SECRET') ?? '';
        const keys = await withClient(
          x.deployment.databaseUrl,
          async (c) =>
            (await c.query<{ fp: string; n: number }>('select secret_fp as fp, count(*)::int as n from api_keys group by 1 order by 1'))
              .rows,
        );
        return {
          secretChanged: Boolean(current) && current !== startSecret,
          previousSecretSet: env.has('API_KEY_SECRET_PREVIOUS'),
          keysBySecret: keys.map((k) => ({
            secret: k.fp === fingerprint(current) ? 'final' : k.fp === fingerprint(startSecret) ? 'start' : 'other',
            n: k.n,
          })),
          keyMadeBeforeStatus: await whoami(x.deployment.baseUrl, keyBefore),
        };
      },
      check: (s) => {
        const e = s.extra;
        const out = [...expectService(s, FROM), ...expectVersionFiles(s, FROM)];
        if (e.secretChanged !== true) out.push('API_KEY_SECRET is still the starting secret');
        if (e.previousSecretSet !== false) out.push('API_KEY_SECRET_PREVIOUS is still set');
        if (JSON.stringify(e.keysBySecret) !== JSON.stringify([{ secret: 'final', n: 1 }]))
          out.push(`api_keys by secret: ${JSON.stringify(e.keysBySecret)}, expected every key under the final secret`);
        if (e.keyMadeBeforeStatus !== 200) out.push(`the key made before the rotation gets ${String(e.keyMadeBeforeStatus)} from /whoami`);
        return out;
      },
    },
  ];

  assert.deepEqual(
    operations.map((o) => o.name),
    [...CRASH_OPERATIONS],
  );

  const step = (s: string): KillPoint => ({ kind: 'step', step: s });
  const at = (activity: string, point: 'start' | 'end' = 'end'): KillPoint => ({ kind: 'activity', activity, at: point });
  const smoke: Record<(typeof CRASH_OPERATIONS)[number], KillPoint[]> = {
    // And the off-site copy uploaded and its manifest written, the result unreported: the
    // retry must find it complete, not upload it twice.
    backup: [step('Dump and verify'), at('createBackup'), at('copyOffsite')],
    restore: [step('Swap in restored database'), at('swapInRestoredDatabase')],
    // Between the migrations and the restart: the migrations must not run a second time.
    upgrade: [step('Restart services'), at('runMigrations')],
    rollback: [step('Restore backup and restart'), at('swapInRestoredDatabase')],
    'rotate-api-key-secret': [step('Re-hash API keys'), at('beginApiKeyRotation')],
  };

  return {
    e2e,
    matrix,
    operations,
    smoke,
    async teardown() {
      await matrix.stop();
      await e2e.teardown().catch(() => {});
      await s3.stop().catch(() => {});
      // On a shared cluster (scripts/test.ts) the templates would outlive the run.
      await withClient(e2e.pg.adminUrl, async (c) => {
        for (const s of snapshots) await c.query(`drop database if exists ${quoteIdent(s.template)} with (force)`);
      }).catch(() => {});
    },
  };
}

/** backup.offsite of the fixture's deployment: its bucket on `s3`, encrypted, credentials
 * and key in the env file (before the baseline snapshot, so every reset keeps them). */
function configureBackupFormat(e2e: E2E, format: 'custom' | 'directory'): void {
  const d = e2e.deployment;
  const doc = YAML.parse(readFileSync(d.configFile, 'utf8')) as { deployments: Record<string, { backup: Record<string, unknown> }> };
  Object.assign(doc.deployments[d.name]!.backup, { format, ...(format === 'directory' ? { jobs: 2 } : {}) });
  writeFileSync(d.configFile, YAML.stringify(doc));
}

function configureOffsite(e2e: E2E, s3: TestS3, bucket: string): void {
  const d = e2e.deployment;
  const doc = YAML.parse(readFileSync(d.configFile, 'utf8')) as { deployments: Record<string, { backup: Record<string, unknown> }> };
  doc.deployments[d.name]!.backup.offsite = offsiteConfig(s3, bucket);
  writeFileSync(d.configFile, YAML.stringify(doc));
  const key = randomBytes(32).toString('hex');
  recordTestSecrets(key);
  appendFileSync(
    d.envFile,
    `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\nOFFSITE_ENCRYPTION_KEY=${key}\n`,
  );
}

/** tableChecksums, except that `without` names tables to checksum without some columns
 * (each listed, with why, in this file's header). Every other table is as strict as ever. */
async function checksumsWithout(url: string, without: Record<string, string[]>): Promise<Record<string, string>> {
  const all = await tableChecksums(url);
  await withClient(url, async (c) => {
    for (const [table, columns] of Object.entries(without)) {
      if (!(table in all)) continue;
      const [schema, name] = table.split('.') as [string, string];
      const { rows } = await c.query<{ rows: string; md5: string }>(
        `select count(*)::text as rows, md5(coalesce(string_agg(r::text, E'\\n' order by r::text), '')) as md5
           from (select to_jsonb(t) - $1::text[] as r from ${quoteIdent(schema)}.${quoteIdent(name)} t) x`,
        [columns],
      );
      all[table] = `rows=${rows[0]!.rows} md5=${rows[0]!.md5} (without ${columns.join(', ')})`;
    }
  });
  return all;
}

/** migration_log: one row per `migrate` run that applied something, in order. */
async function migrationLog(url: string): Promise<Array<{ target: string; applied: string[] }>> {
  return withClient(
    url,
    async (c) =>
      (await c.query<{ target: string; applied: string[] }>('select target_release as target, applied from migration_log order by id'))
        .rows,
  );
}

function expectService(s: EndState, version: string): string[] {
  return s.service.version === version && s.service.ready === 200
    ? []
    : [`service reports ${JSON.stringify(s.service)}, expected ${version} and ready`];
}

function expectVersionFiles(s: EndState, version: string): string[] {
  const env = /^LEDGER_VERSION=(.*)$/m.exec(s.envFile)?.[1];
  return env === version && s.versionFile === `${version}\n`
    ? []
    : [`LEDGER_VERSION=${env}, VERSION ${JSON.stringify(s.versionFile)}: expected ${version}`];
}
