// `day2 cleanup` end to end: kept copies of replaced data (two fake-dated databases and a
// safety dump, named as restores name them) are listed with age and size; --older-than
// drops only the old ones, through the cleanup workflow; the live database and the young
// copy stay; a second run finds nothing; without --yes off a terminal nothing is dropped.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { dropKeptCopies } from '../../src/activities/database/kept-copies';
import { startE2E, type E2E } from '../harness/e2e';

const NAME = 'cu';
let e2e: E2E;
const stampOf = (at: Date) => at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
const OLD_DB = `cu_pre_restore_20010101000000`;
const YOUNG_DB = `cu_pre_restore_${stampOf(new Date(Date.now() - 86400_000))}`;
const OLD_DUMP = `cu-pre-restore-20010102000000.dump`;

async function databases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: e2e.pg.adminUrl });
  await client.connect();
  try {
    return (await client.query<{ datname: string }>(`select datname from pg_database where datname like 'cu%' order by 1`)).rows.map(
      (r) => r.datname,
    );
  } finally {
    await client.end();
  }
}

before(async () => {
  e2e = await startE2E(NAME);
  await e2e.pg.createDatabase(OLD_DB);
  await e2e.pg.createDatabase(YOUNG_DB);
  mkdirSync(e2e.deployment.backupDir, { recursive: true });
  writeFileSync(path.join(e2e.deployment.backupDir, OLD_DUMP), 'PGDMP fake safety dump');
  await e2e.startWorker();
});
after(() => e2e?.teardown());

test('cleanup --older-than 14d drops only the old kept copies, never the live database', async () => {
  const refused = await e2e.cli('cleanup', '--older-than', '14d');
  assert.equal(refused.exitCode, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /not a terminal.*pass --yes to drop them \(nothing was dropped\)/);
  assert.match(refused.stdout, new RegExp(`drop  ${OLD_DB}  database  \\d+d( \\d+h)? old  [\\d.]+ [KM]iB`));
  assert.match(refused.stdout, new RegExp(`keep  ${YOUNG_DB}  database  (1d|23h|24h) old`));
  assert.match(refused.stdout, new RegExp(`drop  ${OLD_DUMP}  safety-dump`));
  assert.deepEqual(await databases(), ['cu', OLD_DB, YOUNG_DB].sort());

  const cleaned = await e2e.cli('--json', 'cleanup', '--older-than', '14d', '--yes');
  assert.equal(cleaned.exitCode, 0, cleaned.stdout + cleaned.stderr);
  const out = JSON.parse(cleaned.stdout);
  assert.equal(out.workflowId, e2e.workflowId, 'one mutating operation per deployment: the deployment id');
  assert.deepEqual(out.result.dropped.map((c: { name: string }) => c.name).sort(), [OLD_DUMP, OLD_DB].sort());
  assert.deepEqual(await databases(), ['cu', YOUNG_DB].sort());
  assert.ok(!existsSync(path.join(e2e.deployment.backupDir, OLD_DUMP)));

  const again = await e2e.cli('cleanup', '--older-than', '14d', '--yes');
  assert.equal(again.exitCode, 0);
  assert.match(again.stdout, /nothing to drop: no kept copy is older than 14d/);
});

test('the activity drops exactly the named copies: a retry finds them gone, other names are refused', async () => {
  const d = e2e.config.deployments[NAME]!;
  assert.deepEqual(await dropKeptCopies(d, NAME, [OLD_DB]), { dropped: [], alreadyGone: [OLD_DB] });
  for (const name of [
    'cu',
    'postgres',
    'cu_restore_20010101000000',
    'cu-2001-01-01-000000.dump',
    '../cu-pre-restore-20010101000000.dump',
  ]) {
    await assert.rejects(dropKeptCopies(d, NAME, [name]), /not kept copies of cu's replaced data/, name);
  }
  assert.deepEqual(await databases(), ['cu', YOUNG_DB].sort());
});
