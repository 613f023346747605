// Backup and restore end to end: real Temporal, real PostgreSQL, the real ledger service,
// a worker process, the CLI as an operator runs it.
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { must } from '../../examples/ledger-deployment';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { progressQuery } from '../../src/domain/messages';
import { spawnCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';

let e2e: E2E;

async function databases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: e2e.pg.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like 'br%' order by 1`);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

const liveChecksums = () => tableChecksums(e2e.deployment.databaseUrl);
const dumps = () =>
  readdirSync(e2e.deployment.backupDir)
    .filter((f) => f.endsWith('.dump'))
    .sort();

const backup = (...args: string[]) => e2e.backup(...args);

async function waitForStep(step: string, status: string): Promise<void> {
  const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
  for (let i = 0; i < 600; i++) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.steps.some((s) => s.name === step && s.status === status)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`step '${step}' never reached ${status}`);
}

before(async () => {
  e2e = await startE2E('br', { keep: 5 });
  await e2e.startService(20);
  await e2e.startWorker();
});

after(async () => {
  await e2e?.teardown();
});

describe('backup and restore', () => {
  let file: string;
  let atBackup: Record<string, string>;

  test('backup writes a verified dump with a 0600 manifest in a 0700 directory', async () => {
    file = await backup();
    atBackup = await liveChecksums();
    assert.match(file, /^br-\d{4}-\d{2}-\d{2}-\d{6}\.dump$/);
    const manifest = JSON.parse(readFileSync(path.join(e2e.deployment.backupDir, `${file}.manifest.json`), 'utf8'));
    assert.equal(manifest.file, file);
    assert.equal(manifest.deployment, 'br');
    assert.equal(manifest.appVersion, '1.0.0');
    assert.ok(manifest.tocEntries > 0);
    assert.equal(statSync(path.join(e2e.deployment.backupDir, file)).mode & 0o777, 0o600);
    assert.equal(statSync(e2e.deployment.backupDir).mode & 0o777, 0o700);
  });

  test('restore after a change brings back every table exactly, chain intact, service ready', async () => {
    await must(e2e.deployment.ctl('seed', '--entries', '7'), 'seed more');
    assert.notDeepEqual(await liveChecksums(), atBackup);

    const started = await e2e.cli('restore', file);
    assert.equal(started.exitCode, 4, `paused at the confirmation gate: ${started.stdout}${started.stderr}`);
    assert.match(started.stdout, /day2 approve day2-br --gate confirm-restore/);

    const approved = await e2e.cli('approve', e2e.workflowId, '--gate', 'confirm-restore', '--reason', 'test restore');
    assert.equal(approved.exitCode, 0, approved.stderr);
    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);

    assert.deepEqual(await liveChecksums(), atBackup);
    const scan = await e2e.deployment.ctl('scan');
    assert.equal(scan.exitCode, 0, scan.stdout);
    assert.equal((await fetch(`${e2e.deployment.baseUrl}/health/ready`)).status, 200);
    assert.ok(
      (await databases()).some((d) => d.startsWith('br_pre_restore_')),
      'the previous database is kept',
    );
    assert.match(
      done.stdout,
      /previous data kept as br_pre_restore_\w+; 1 kept copy of replaced data take [\d.]+ MiB in all/,
      'the restore says how much is kept',
    );
  });

  test('backup --wait-if-busy waits for the operation holding the deployment, then runs', async () => {
    const started = await e2e.cli('restore', file);
    assert.equal(started.exitCode, 4, 'the restore holds the deployment, waiting at its gate');
    const brief = await e2e.cli('backup', '--wait-if-busy', '1');
    assert.equal(brief.exitCode, 3, brief.stdout + brief.stderr);
    assert.match(
      brief.stderr,
      /still busy after waiting 1 s: deployment br is busy: restore is waiting at gate 'confirm-restore' \(workflow day2-br/,
    );

    const before = dumps();
    const waiting = spawnCli(e2e.deployment.configFile, ['backup', '--wait-if-busy', '120']);
    await waiting.waitFor(
      /waiting up to 120 s for the deployment to be free: deployment br is busy: restore is waiting at gate 'confirm-restore'/,
    );
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'make way for the backup');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    const { exitCode } = await waiting.child;
    assert.equal(exitCode, 0, waiting.output());
    assert.match(waiting.output(), /✓ backed up to br-[\d-]+\.dump/);
    assert.equal(dumps().length, Math.min(before.length + 1, 5), 'one more backup (retention keeps 5)');
  });

  test('a rejected confirmation gate leaves everything as it was', async () => {
    const before = await liveChecksums();
    const dbsBefore = await databases();
    const started = await e2e.cli('restore', file);
    assert.equal(started.exitCode, 4);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'wrong file');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 5, done.stdout);
    assert.deepEqual(await liveChecksums(), before);
    assert.deepEqual(await databases(), dbsBefore);
  });

  test('bad archives and names are refused before anything destructive', async () => {
    const before = await liveChecksums();
    const dbsBefore = await databases();
    const dir = e2e.deployment.backupDir;

    const traversal = await e2e.cli('restore', '../../etc/passwd', '--yes');
    assert.equal(traversal.exitCode, 2);
    assert.match(traversal.stderr, /not a bare file name/);

    const missing = await e2e.cli('restore', 'br-2001-01-01-000000.dump', '--yes');
    assert.equal(missing.exitCode, 2, missing.stdout + missing.stderr);
    assert.match(missing.stdout + missing.stderr, /not found/);

    // A truncated copy and a tampered copy, each with the original's manifest.
    const manifest = JSON.parse(readFileSync(path.join(dir, `${file}.manifest.json`), 'utf8'));
    for (const [name, damage] of [
      ['br-2001-01-01-000001.dump', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2))],
      [
        'br-2001-01-01-000002.dump',
        (p: string) => {
          const bytes = readFileSync(p);
          bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
          writeFileSync(p, bytes);
        },
      ],
    ] as const) {
      copyFileSync(path.join(dir, file), path.join(dir, name));
      writeFileSync(path.join(dir, `${name}.manifest.json`), JSON.stringify({ ...manifest, file: name }));
      damage(path.join(dir, name));
      const r = await e2e.cli('restore', name, '--yes');
      assert.equal(r.exitCode, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, /checksum|size|pg_restore/i);
    }
    assert.deepEqual(await liveChecksums(), before);
    assert.deepEqual(await databases(), dbsBefore);
  });

  test('retention keeps exactly N and never the newest verified backup', async () => {
    // The damaged copies of the previous test would count as backups.
    for (const f of readdirSync(e2e.deployment.backupDir)) if (f.startsWith('br-2001')) rmSync(path.join(e2e.deployment.backupDir, f));
    await backup();
    await backup();
    const newest = await backup('--keep', '2');
    assert.deepEqual(dumps().length, 2);
    assert.ok(dumps().includes(newest));
    const listed = await e2e.cli('--json', 'backups');
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { file: string }[]).map((m) => m.file),
      [...dumps()].reverse(),
      '`day2 backups` lists them newest first',
    );
  });

  test('a worker killed during a restore: the restore finishes once, nothing left behind', async () => {
    const target = dumps().at(-1)!;
    const atTarget = await liveChecksums(); // the newest backup was taken from this state
    await must(e2e.deployment.ctl('seed', '--entries', '5'), 'seed');
    const started = await e2e.cli('restore', target, '--yes', '--detach');
    assert.equal(started.exitCode, 0, started.stderr);
    await waitForStep('Restore into staging database', 'running');
    await e2e.worker!.kill();
    await e2e.startWorker();
    const done = await e2e.cli('status', e2e.workflowId, '--follow');
    assert.equal(done.exitCode, 0, done.stdout + done.stderr);
    assert.deepEqual(await liveChecksums(), atTarget);
    const leftovers = (await databases()).filter((d) => d !== 'br' && !d.startsWith('br_pre_restore_'));
    assert.deepEqual(leftovers, [], 'no staging database is left behind');
    assert.deepEqual(
      readdirSync(e2e.deployment.backupDir).filter((f) => f.endsWith('.partial')),
      [],
    );
  });
});
