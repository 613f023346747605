// `day2 preflight` end to end: the worker runs the built-in and configured checks against
// the real ledger deployment; a sound deployment passes (even while an operation holds it),
// an unfit one names every failed check, exits 1 and is left as it was.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { progressQuery } from '../../src/domain/messages';
import type { PreflightResult } from '../../src/domain/types';
import { startE2E, type E2E } from '../harness/e2e';

let e2e: E2E;
const NAME = 'pflight';
const BUILTIN = [
  'env file has the required variables',
  'version file agrees with the env file',
  'database reachable',
  'pg_dump can dump the server',
  'backup directory can take a backup',
  'kept copies of replaced data',
];
const CONFIGURED = ['service ready', 'migrations not pending'];

before(async () => {
  // One kept copy is allowed before preflight warns (see the kept-copies test).
  e2e = await startE2E(NAME, { extra: { backup: { dir: 'backups', keep: 5, warnKeptCopies: 1 } } });
  await e2e.startService(3);
  await e2e.startWorker();
});
after(async () => e2e?.teardown());

describe('day2 preflight', () => {
  test('a sound deployment passes the built-in checks, then the configured ones; the run is a workflow of its own', async () => {
    const r = await e2e.cli('--json', 'preflight');
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout) as PreflightResult;
    assert.deepEqual(
      result.checks.map((c) => c.name),
      [...BUILTIN, ...CONFIGURED],
    );
    assert.deepEqual(
      result.checks.filter((c) => !c.ok),
      [],
    );
    assert.equal(result.ok, true);
    assert.match(result.checks.at(-1)!.detail, /^exit 0: schema at 1\.0\.0: \d+ migration\(s\) applied, none pending$/);

    const human = await e2e.cli('preflight');
    assert.equal(human.exitCode, 0, human.stderr);
    assert.match(human.stdout, /^started preflight of pflight: day2-pflight-preflight-\d{8}T\d{9} \(run [0-9a-f-]+\)$/m);
    assert.match(human.stdout, /^ {2}Web UI: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/day2-pflight-preflight-/m);
    assert.match(human.stdout, /^ {2}✓ database reachable — pflight@127\.0\.0\.1:\d+: PostgreSQL /m);
    assert.match(human.stdout, /^preflight of pflight passed: 8 checks$/m);

    // The Web UI's checklist has a line per check.
    const id = /workflows\/(day2-pflight-preflight-\d{8}T\d{9})/.exec(human.stdout)![1]!;
    const progress = await e2e.temporal.client.workflow.getHandle(id).query(progressQuery);
    assert.equal(progress.operation, 'preflight');
    assert.deepEqual(
      progress.steps.map((s) => [s.name, s.status]),
      [['Run preflight checks', 'done'], ...[...BUILTIN, ...CONFIGURED].map((n) => [n, 'done'])],
    );
    assert.equal(progress.outcome, 'all 8 checks passed');
  });

  test('runs beside an operation that holds the deployment', async () => {
    const file = await e2e.backup();
    const restore = await e2e.cli('restore', file);
    assert.equal(restore.exitCode, 4, 'the restore waits at its gate, holding the deployment');
    try {
      const r = await e2e.cli('preflight');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /preflight of pflight passed/);
    } finally {
      const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'test over');
      assert.equal(rejected.exitCode, 0, rejected.stderr);
    }
  });

  test('an unfit deployment: every failed check named, exit 1, nothing changed', async () => {
    const original = readFileSync(e2e.deployment.envFile, 'utf8');
    // As after a botched hand edit: the env file names a release whose migrations never
    // ran, and lost the API key secret.
    const edited = original.replace(/^LEDGER_VERSION=.*$/m, 'LEDGER_VERSION=1.1.0').replace(/^API_KEY_SECRET=.*\n/m, '');
    writeFileSync(e2e.deployment.envFile, edited);
    try {
      const r = await e2e.cli('--json', 'preflight');
      assert.equal(r.exitCode, 1, r.stdout + r.stderr);
      const result = JSON.parse(r.stdout) as PreflightResult;
      assert.equal(result.ok, false);
      const failed = Object.fromEntries(result.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
      assert.deepEqual(Object.keys(failed), [
        'env file has the required variables',
        'version file agrees with the env file',
        'migrations not pending',
      ]);
      assert.match(failed['env file has the required variables']!, /^missing or empty: API_KEY_SECRET \(/);
      assert.match(failed['version file agrees with the env file']!, /^LEDGER_VERSION=1\.1\.0 but .*VERSION says 1\.0\.0/);
      assert.match(
        failed['migrations not pending']!,
        /^exit 1 \(expected 0\): migrations pending: run migrate 1\.1\.0 \(missing 0004_audit_events/,
      );
      assert.equal(r.stderr, '', '--json writes nothing but its document');
      const human = await e2e.cli('preflight');
      assert.match(human.stdout, /^ {2}✗ migrations not pending — exit 1/m);
      assert.match(human.stdout, /^preflight of pflight failed: 3 of 8 checks$/m);
      assert.equal(readFileSync(e2e.deployment.envFile, 'utf8'), edited, 'preflight only reads');
    } finally {
      writeFileSync(e2e.deployment.envFile, original);
    }
    const again = await e2e.cli('preflight');
    assert.equal(again.exitCode, 0, again.stdout + again.stderr);
  });

  test('kept copies of replaced data are counted with their size, and past backup.warnKeptCopies preflight warns but passes', async () => {
    const kept = ['pflight_pre_restore_20010101T000000', 'pflight_pre_restore_20010102T000000'];
    const admin = new pg.Client({ connectionString: e2e.pg.adminUrl });
    await admin.connect();
    try {
      for (const name of kept) await admin.query(`CREATE DATABASE "${name}"`);
      const r = await e2e.cli('--json', 'preflight');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const check = (JSON.parse(r.stdout) as PreflightResult).checks.find((c) => c.name === 'kept copies of replaced data')!;
      assert.equal(check.ok, true, 'never fails an operation');
      assert.equal(check.warning, true);
      assert.match(
        check.detail,
        /^2 kept copies of replaced data \(\d+\.\d MiB\): pflight_pre_restore_20010101T000000, pflight_pre_restore_20010102T000000 — more than backup\.warnKeptCopies \(1\)/,
      );
      const human = await e2e.cli('preflight');
      assert.match(human.stdout, /⚠ kept copies of replaced data — 2 kept copies/);
    } finally {
      for (const name of kept) await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
      await admin.end();
    }
  });
});
