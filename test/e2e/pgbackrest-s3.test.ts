// backup.pgbackrest.repo: offsite — pgBackRest's repository in the deployment's off-site
// bucket: a real versitygw served over TLS (pgBackRest speaks S3 over https only) with a
// certificate of its own, trusted through backup.pgbackrest.s3CaFile. WAL and backups land
// in the bucket, and a point-in-time restore reads them back from there.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { configFileOf } from '../../src/activities/pgbackrest/run';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import type { PgbackrestBackupResult, PitrRestoreResult } from '../../src/domain/pgbackrest';
import { startPgbackrestE2E, type PgbackrestE2E } from '../harness/pgbackrest';
import { offsiteConfig, startS3, type TestS3 } from '../harness/s3';

const NAME = 'pgbrs3';
const BUCKET = 'pgbr-repo';
let e2e: PgbackrestE2E;
let s3: TestS3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = <T>(stdout: string) => JSON.parse(stdout) as { result: T };

describe('backup.pgbackrest.repo: offsite (S3 over TLS)', { timeout: 600_000 }, () => {
  before(async () => {
    s3 = await startS3({ tls: true });
    await s3.createBucket(BUCKET);
    e2e = await startPgbackrestE2E(
      NAME,
      { repo: 'offsite', s3CaFile: s3.caFile },
      { offsite: offsiteConfig(s3, BUCKET, { encrypted: false }) },
    );
    appendFileSync(e2e.deployment.envFile, `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\n`);
    await e2e.startWorker();
    await e2e.startService(5);
    await e2e.sql('CREATE TABLE s3_marks (id serial PRIMARY KEY, tag text NOT NULL)');
  });
  after(async () => {
    await e2e?.teardown();
    await s3?.stop();
  });

  it('backs up into the bucket (WAL and backup), the secret only in the 0600 config file', async () => {
    const b = await e2e.cli('--json', 'backup', '--type', 'full', '--yes');
    assert.equal(b.exitCode, 0, b.stdout + b.stderr);
    const made = json<PgbackrestBackupResult>(b.stdout).result.backup!;
    const keys = await s3.keys(BUCKET, `${NAME}/pgbackrest/`);
    assert.ok(
      keys.some((k) => k.startsWith(`${NAME}/pgbackrest/backup/${NAME}/${made.label}/`)),
      keys.slice(0, 5).join(', '),
    );
    assert.ok(
      keys.some((k) => k.startsWith(`${NAME}/pgbackrest/archive/${NAME}/`)),
      'WAL archived to the bucket',
    );
    assert.doesNotMatch(b.stdout + b.stderr, new RegExp(s3.secretAccessKey));
    assert.match(readFileSync(configFileOf(e2e.pgbr), 'utf8'), /repo1-type=s3/);
  });

  it('--to-time restores from the bucket exactly the rows committed before that time', async () => {
    await e2e.sql("INSERT INTO s3_marks (tag) VALUES ('kept'), ('kept')");
    await sleep(1100);
    const at = new Date().toISOString();
    const sums = await tableChecksums(e2e.dbUrl);
    await sleep(1100);
    await e2e.sql("INSERT INTO s3_marks (tag) VALUES ('lost')");
    const r = await e2e.cli('--json', 'restore', '--to-time', at, '--yes');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(json<PitrRestoreResult>(r.stdout).result.outcome, 'restored');
    assert.deepEqual(await tableChecksums(e2e.dbUrl), sums);
  });
});
