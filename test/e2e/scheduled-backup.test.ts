// Schedules end to end: `day2 schedule backup|drill` make named Temporal Schedules (cron with
// a time zone, or an interval); `day2 schedule list` shows each one's spec, next run and how
// its last run ended; `day2 schedule trigger` runs one now (a real backup, a real drill); a
// run while another operation holds the deployment (a restore waiting at its gate) is
// skipped, says why, tells the webhook and touches nothing; `day2 schedule remove` deletes
// one. Along the way: backup.keepDays retention on fake-dated copies, and the staleness
// gauge on the worker's metrics endpoint, the same after the worker restarts.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyRetentionInDir } from '../../src/activities/database/backup-retention';
import { backupFileName } from '../../src/domain/backup-names';
import type { BackupManifest, OperationEvent, ScheduledBackupResult, ScheduledDrillResult } from '../../src/domain/types';
import { legacyBackupScheduleId, scheduleId } from '../../src/client/day2-schedules';
import { createLogger } from '../../src/logger';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';

let e2e: E2E;
let hook: Server;
const events: OperationEvent[] = [];
const NAME = 'sched';
const NIGHTLY = 'nightly';
const DRILL = 'drill-cron-0-3-1-x-x'; // the name derived from --cron "0 3 1 * *"
let metricsPort = 0;

const backupDir = () => e2e.deployment.backupDir;
const dumps = () => (existsSync(backupDir()) ? readdirSync(backupDir()) : []).filter((f) => f.endsWith('.dump')).sort();
const manifestOf = (file: string) => JSON.parse(readFileSync(path.join(backupDir(), `${file}.manifest.json`), 'utf8')) as BackupManifest;
const handle = (name: string) => e2e.temporal.client.schedule.getHandle(scheduleId(NAME, name));

/** A copy of `source` (a real backup) named and dated `at`, with a manifest that matches it. */
function datedCopy(source: string, at: Date): string {
  const file = backupFileName(NAME, at);
  copyFileSync(path.join(backupDir(), source), path.join(backupDir(), file));
  writeFileSync(
    path.join(backupDir(), `${file}.manifest.json`),
    JSON.stringify({ ...manifestOf(source), file, createdAt: at.toISOString() }),
    { mode: 0o600 },
  );
  return file;
}

/** `day2 schedule trigger <name>` and the result of the run it started. */
async function trigger<T>(name: string): Promise<T> {
  const r = await e2e.cli('--json', 'schedule', 'trigger', name);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  const { workflowId } = JSON.parse(r.stdout) as { workflowId?: string };
  assert.ok(workflowId, `the trigger names the run it started: ${r.stdout}`);
  return e2e.temporal.client.workflow.getHandle(workflowId).result() as Promise<T>;
}

/** The staleness gauge's sample line for `operation`, once the worker's endpoint has it. */
async function lastSuccessLine(operation: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const lines = text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('day2_last_success_timestamp_seconds{') &&
          l.includes(`deployment="${NAME}"`) &&
          l.includes(`operation="${operation}"`),
      );
    assert.ok(lines.length <= 1, `one series per deployment and operation:\n${lines.join('\n')}`);
    if (lines[0]) return lines[0];
    if (Date.now() > deadline) throw new Error(`no day2_last_success_timestamp_seconds for ${operation}:\n${text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const lastSuccess = async (operation: string) => Number((await lastSuccessLine(operation)).split(' ').at(-1));

async function startWorkerWithMetrics(): Promise<void> {
  metricsPort = await freePort();
  await e2e.startWorker({ DAY2_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
}

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      events.push(JSON.parse(body) as OperationEvent);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  e2e = await startE2E(NAME, { extra: { backup: { dir: 'backups', keep: 1, keepDays: 30 }, notify: { webhookUrl } } });
  await e2e.startService(5);
  await startWorkerWithMetrics();
});

after(async () => {
  for (const id of [scheduleId(NAME, NIGHTLY), scheduleId(NAME, DRILL), legacyBackupScheduleId(NAME)]) {
    await e2e?.temporal.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  }
  await e2e?.teardown();
  hook?.close();
});

describe('schedules', () => {
  test('bad specs are bad input (exit 2), nothing created', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--every', '5x'], /'5x' is not an interval: use minutes, hours or days, e.g. 30m, 6h, 1d/],
      [['--cron', '0 2 * *'], /'0 2 \* \*' is not a cron expression: give five fields/],
      [['--cron', '0 2 * * *', '--timezone', 'Mars/Olympus'], /'Mars\/Olympus' is not an IANA time zone/],
      [['--every', '6h', '--cron', '0 2 * * *'], /give exactly one of --every <interval> and --cron/],
      [['--every', '6h', '--timezone', 'UTC'], /--timezone applies to --cron only/],
      [['--cron', '99 2 * * *'], /Temporal refused the schedule/],
    ];
    for (const [args, message] of cases) {
      const r = await e2e.cli('schedule', 'backup', ...args);
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /no schedules/);
  });

  test('a cron backup schedule and a drill schedule are created (or updated by name) and listed with their next run', async () => {
    const made = await e2e.cli('schedule', 'backup', '--cron', '0 2 * * *', '--timezone', 'Europe/Paris', '--name', NIGHTLY);
    assert.equal(made.exitCode, 0, made.stdout + made.stderr);
    assert.match(
      made.stdout,
      /created schedule nightly: a backup of sched cron "0 2 \* \* \*" \(Europe\/Paris\), next \d{4}-\d\d-\d\dT\d\d:00:00Z/,
    );
    const again = await e2e.cli('schedule', 'backup', '--cron', '30 2 * * *', '--timezone', 'Europe/Paris', '--name', NIGHTLY);
    assert.match(again.stdout, /updated schedule nightly: a backup of sched cron "30 2 \* \* \*" \(Europe\/Paris\)/);
    // 02:30 in Paris is 00:30 or 01:30 UTC.
    const next = (await handle(NIGHTLY).describe()).info.nextActionTimes[0]!;
    assert.equal(next.getUTCMinutes(), 30);
    assert.ok([0, 1].includes(next.getUTCHours()), next.toISOString());

    const drill = await e2e.cli('schedule', 'drill', '--cron', '0 3 1 * *');
    assert.equal(drill.exitCode, 0, drill.stdout + drill.stderr);
    assert.match(
      drill.stdout,
      /created schedule drill-cron-0-3-1-x-x: a DR drill of sched cron "0 3 1 \* \*" \(UTC\), next \d{4}-\d\d-01T03:00:00Z/,
    );

    const listed = await e2e.cli('schedule', 'list');
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.match(listed.stdout, /^drill-cron-0-3-1-x-x {2}drill of sched {2}cron "0 3 1 \* \*" \(UTC\) {2}next \d{4}-\d\d-01T03:00:00Z$/m);
    assert.match(
      listed.stdout,
      /^nightly {2}backup of sched {2}cron "30 2 \* \* \*" \(Europe\/Paris\) {2}next \d{4}-\d\d-\d\dT0[01]:30:00Z$/m,
    );
    assert.equal(listed.stdout.match(/^ {2}last run: none yet$/gm)?.length, 2, listed.stdout);
    const ambiguous = await e2e.cli('schedule', 'trigger');
    assert.equal(ambiguous.exitCode, 2);
    assert.match(ambiguous.stderr, /sched has 2 schedules: name one \(it has: drill-cron-0-3-1-x-x, nightly\)/);
  });

  test('triggered once, the backup schedule backs up; keepDays deletes old-dated backups only; the staleness gauge has the backup', async () => {
    const baseline = await e2e.backup();
    const ancient = datedCopy(baseline, new Date('2001-03-04T05:06:07Z'));
    const recent = datedCopy(baseline, new Date(Date.now() - 3 * 86_400_000));
    const result = await trigger<ScheduledBackupResult>(NIGHTLY);
    assert.equal(result.outcome, 'backed-up');
    const file = result.outcome === 'backed-up' ? result.file : '';
    // keep: 1 keeps the new one; keepDays: 30 keeps the two younger than 30 days.
    assert.deepEqual(dumps(), [baseline, file, recent].sort(), `${ancient} deleted, the rest kept`);
    const listed = await e2e.cli('schedule', 'list');
    assert.ok(
      listed.stdout.split('\n').some((l) => /^ {2}last run: \S+Z backed up /.test(l) && l.endsWith(file)),
      listed.stdout,
    );
    assert.equal(await lastSuccess('backup'), Math.floor(Date.parse(manifestOf(file).createdAt) / 1000));
  });

  test('triggered once, the drill schedule drills the newest backup; the gauge has the drill', async () => {
    const result = await trigger<ScheduledDrillResult>(DRILL);
    assert.equal(result.outcome, 'drilled');
    assert.ok(result.outcome === 'drilled' && result.ok && result.file === dumps().at(-1), JSON.stringify(result));
    const drillRun = await e2e.temporal.client.workflow.getHandle(result.workflowId).describe();
    assert.equal(drillRun.type, 'drill');
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, new RegExp(`^drill-cron-0-3-1-x-x .*\\n {2}last run: \\S+Z drill passed: ${result.file} restores$`, 'm'));
    assert.equal(await lastSuccess('drill'), Math.floor(drillRun.startTime.getTime() / 1000));
  });

  test('runs while a restore holds the deployment are skipped, say why, tell the webhook, and change nothing', async () => {
    const started = await e2e.cli('restore', dumps().at(-1)!);
    assert.equal(started.exitCode, 4, 'the restore waits at its gate, holding the deployment');
    const before = dumps();
    events.length = 0;
    const backup = await trigger<ScheduledBackupResult>(NIGHTLY);
    assert.deepEqual(backup, {
      outcome: 'skipped',
      reason: 'another operation holds sched (workflow day2-sched: see day2 status sched); the next scheduled run tries again',
    });
    const drill = await trigger<ScheduledDrillResult>(DRILL);
    assert.deepEqual(drill, {
      outcome: 'skipped',
      reason: 'another operation holds sched (restore, workflow day2-sched: see day2 status sched); the next scheduled run tries again',
    });
    assert.deepEqual(dumps(), before);
    assert.equal(
      (await e2e.temporal.client.workflow.getHandle(e2e.workflowId).describe()).status.name,
      'RUNNING',
      'the restore still waits, untouched',
    );
    assert.deepEqual(
      events.map((e) => [e.operation, e.outcome, e.detail]),
      [
        ['backup', 'skipped', `scheduled run (nightly) skipped: ${backup.outcome === 'skipped' ? backup.reason : ''}`],
        ['drill', 'skipped', `scheduled run (drill-cron-0-3-1-x-x) skipped: ${drill.outcome === 'skipped' ? drill.reason : ''}`],
      ],
    );
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /last run: \S+Z skipped: another operation holds sched \(workflow day2-sched: see day2 status sched\)/);
    assert.match(listed.stdout, /last run: \S+Z skipped: another operation holds sched \(restore, workflow day2-sched/);
    const rejected = await e2e.cli('reject', e2e.workflowId, '--reason', 'test over');
    assert.equal(rejected.exitCode, 0, rejected.stderr);
  });

  test('a restarted worker recovers the staleness gauge from visibility: same series, same values', async () => {
    const backupBefore = await lastSuccessLine('backup');
    const drillBefore = await lastSuccessLine('drill');
    await e2e.worker!.stop();
    await startWorkerWithMetrics();
    // Same labels too (namespace, taskQueue, workflowType as the SDK adds them): a later
    // success overwrites the recovered value instead of starting a second series.
    assert.equal(await lastSuccessLine('backup'), backupBefore);
    assert.equal(await lastSuccessLine('drill'), drillBefore);
  });

  test('day2 schedule remove deletes each by name; again is bad input; the old unnamed backup schedule is listed and removed as "backup"', async () => {
    for (const name of [NIGHTLY, DRILL]) {
      const removed = await e2e.cli('schedule', 'remove', name);
      assert.equal(removed.exitCode, 0, removed.stdout + removed.stderr);
      assert.match(removed.stdout, new RegExp(`removed schedule ${name} \\(${scheduleId(NAME, name)}\\)`));
    }
    const again = await e2e.cli('schedule', 'remove', NIGHTLY);
    assert.equal(again.exitCode, 2, again.stdout + again.stderr);
    assert.match(again.stderr, /sched has no schedule named 'nightly' \(it has none\)/);

    const hourly = await e2e.cli('schedule', 'backup', '--every', '1h', '--name', 'hourly');
    assert.match(hourly.stdout, /created schedule hourly: a backup of sched every 1h, next \d{4}-/);
    assert.match((await e2e.cli('schedule', 'list')).stdout, /^hourly {2}backup of sched {2}every 1h {2}next \d{4}-/m);
    assert.equal((await e2e.cli('schedule', 'remove', 'hourly')).exitCode, 0);

    // What `day2 schedule backup --every 6h` made before schedules had names.
    await e2e.temporal.client.schedule.create({
      scheduleId: legacyBackupScheduleId(NAME),
      spec: { intervals: [{ every: '6h' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledBackup',
        workflowId: `day2-${NAME}-scheduled-backup`,
        taskQueue: e2e.config.temporal.taskQueue,
        args: [{ deployment: NAME }],
      },
      memo: { day2: `backup of ${NAME} every 6h` },
    });
    const listed = await e2e.cli('schedule', 'list');
    assert.match(listed.stdout, /^backup {2}backup of sched {2}every 6h {2}next \d{4}-/m);
    const removed = await e2e.cli('schedule', 'remove');
    assert.equal(removed.exitCode, 0, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /removed schedule backup \(day2-sched-backup-schedule\)/);
  });
});

describe('retention by age', () => {
  test('keepDays deletes what is both old and outside keep, never the newest backup that verifies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-keepdays-'));
    try {
      const real = dumps().at(-1)!;
      const m = manifestOf(real);
      const put = (at: string, damaged = false) => {
        const file = backupFileName(NAME, new Date(at));
        copyFileSync(path.join(backupDir(), real), path.join(dir, file));
        if (damaged) writeFileSync(path.join(dir, file), 'not the dump the manifest describes');
        writeFileSync(path.join(dir, `${file}.manifest.json`), JSON.stringify({ ...m, file, createdAt: new Date(at).toISOString() }));
        return file;
      };
      const now = Date.parse('2001-06-30T00:00:00Z');
      const newestDamaged = put('2001-06-29T00:00:00Z', true);
      const oldGood = put('2001-01-02T00:00:00Z');
      const olderGood = put('2001-01-01T00:00:00Z');
      const logger = createLogger('test', 'silent');
      const first = await applyRetentionInDir(dir, { keep: 1, keepDays: 7 }, [], logger, now);
      // The damaged one is the newest (keep: 1) and young; oldGood is the newest that verifies.
      assert.deepEqual(first.deleted, [olderGood]);
      const young = put('2001-06-27T00:00:00Z');
      const second = await applyRetentionInDir(dir, { keep: 1, keepDays: 7 }, [], logger, now);
      assert.deepEqual(second.deleted, [oldGood], 'a younger backup that verifies takes over as the safety net');
      assert.deepEqual(
        readdirSync(dir)
          .filter((f) => f.endsWith('.dump'))
          .sort(),
        [young, newestDamaged].sort(),
      );
      await assert.rejects(
        applyRetentionInDir(dir, { keep: 1, keepDays: 0 }, [], logger, now),
        /keepDays must be a positive number of days/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
