// What an operator sees in the terminal, against a real running restore: the live progress
// (steps, elapsed times, the gate and the commands that decide it), `status`, `list`, a
// clean `cancel`, and a clear refusal when approving a gate the workflow does not wait at.
// Outputs are compared whole, with times, ids and ports normalised.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCliOnTerminal, spawnCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';

const NAME = 'clip';
let e2e: E2E;
let backupFile: string;

/** Replaces what changes from run to run: times, durations, ids, ports, generated names. */
export function normalise(text: string): string {
  return text
    .replace(new RegExp(backupFile.replace(/\./g, '\\.'), 'g'), '<backup>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<run>')
    .replace(/\b\d+(\.\d+)? ?s\b|\b\d+m\d\ds\b|\b\d+h\d\dm\b/g, '<t>')
    .replace(/127\.0\.0\.1:\d+/g, '<host>')
    .replace(/_\d{14}\b/g, '_<stamp>')
    .replace(/\d+ TOC entries/g, '<n> TOC entries')
    .replace(/\d+(\.\d)? (B|KiB|MiB|GiB)\b/g, '<size>')
    .replace(/\/run\/[^/\s]+/g, '/run/<run>')
    .replace(/ +$/gm, '');
}

before(async () => {
  e2e = await startE2E(NAME);
  await e2e.startService(5);
  await e2e.startWorker();
  backupFile = await e2e.backup();
});

after(async () => {
  await e2e?.teardown();
});

const GATE_BLOCK = (
  indent: string,
) => `${indent}⏸ waiting at gate 'confirm-restore': Replace all data of clip with <backup> (taken <time>)? Everything written since is lost (the current database is kept aside).
${indent}  approve: day2 approve day2-clip --gate confirm-restore --reason "<why>"
${indent}  reject:  day2 reject day2-clip --gate confirm-restore --reason "<why>"
${indent}  on timeout (<time>): reject`;
const WEB_UI = '  Web UI: http://<host>/namespaces/default/workflows/day2-clip/<run>/history';

describe('CLI progress', () => {
  test('a restore followed live, paused at its gate, approved, followed to the end', async () => {
    const started = await e2e.cli('restore', backupFile);
    assert.equal(started.exitCode, 4, started.stderr);
    assert.equal(
      settled(started.stdout),
      `started restore on clip: day2-clip (run <run>)
${WEB_UI}
  [x] Verify backup (<t>) — <backup>: <n> TOC entries, taken <time>
  [?] Confirm restore (<t>)
${GATE_BLOCK('    ')}
${WEB_UI}`,
    );

    const status = await e2e.cli('status', NAME);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.equal(
      normalise(status.stdout),
      `restore on clip — RUNNING for <t> (workflow day2-clip, run <run>)
  [x] Verify backup (<t>) — <backup>: <n> TOC entries, taken <time>
  [?] Confirm restore (<t>)
  [ ] Restore into staging database
  [ ] Stop services
  [ ] Swap in restored database
  [ ] Start services
  [ ] Wait for readiness
  [ ] Verify restored data
${GATE_BLOCK('  ')}
${WEB_UI}`,
    );

    // From a pipe a destructive gate is approved only when named (or with --yes).
    const unnamed = await e2e.cli('approve', NAME, '--reason', 'snapshot test');
    assert.equal(unnamed.exitCode, 3, unnamed.stdout + unnamed.stderr);
    assert.match(
      unnamed.stderr,
      /waits at the destructive gate 'confirm-restore': Replace all data[^\n]*\nNot approved: name it .*\(--gate confirm-restore\), or pass --yes; nothing was sent/,
    );
    const approved = await e2e.cli('approve', NAME, '--gate', 'confirm-restore', '--reason', 'snapshot test');
    assert.equal(approved.exitCode, 0, approved.stderr);
    assert.equal(approved.stdout, "approved gate 'confirm-restore' of day2-clip");

    const followed = await e2e.cli('status', NAME, '--follow');
    assert.equal(followed.exitCode, 0, followed.stderr);
    assert.equal(
      settled(followed.stdout),
      `following restore day2-clip (run <run>)
${WEB_UI}
  [x] Verify backup (<t>) — <backup>: <n> TOC entries, taken <time>
  [x] Confirm restore (<t>) — approved by test-operator: snapshot test
  [x] Restore into staging database (<t>) — clip_restore_<stamp>
  [x] Stop services (<t>)
  [x] Swap in restored database (<t>) — previous data kept as clip_pre_restore_<stamp>
  [x] Start services (<t>)
  [x] Wait for readiness (<t>) — ready after <t>
  [x] Verify restored data (<t>) — ✓ preflight (8 checks), ✓ vault chain intact, ✓ service ready
✓ restored <backup>; previous data kept as clip_pre_restore_<stamp>; 1 kept copy of replaced data take <size> in all (took <t>)
${WEB_UI}`,
    );

    const listed = await e2e.cli('list', '--deployment', NAME);
    const [header, newest] = listed.stdout.split('\n');
    assert.match(header!, /^STARTED +STATUS +OPERATION +DEPLOYMENT +WORKFLOW ID +RUN +STATE$/);
    assert.match(newest!, /^\S+Z +COMPLETED +restore +clip +day2-clip +[0-9a-f]{12} +took \d/);
  });

  test('approving a gate the workflow does not wait at is refused (exit 3), naming the gate it waits at', async () => {
    const started = await e2e.cli('restore', backupFile);
    assert.equal(started.exitCode, 4, started.stderr);
    const wrong = await e2e.cli('approve', e2e.workflowId, '--gate', 'confirm-rollback', '--reason', 'wrong gate');
    assert.equal(wrong.exitCode, 3);
    assert.equal(
      normalise(wrong.stderr),
      `day2: day2-clip is not waiting at gate 'confirm-rollback'; it waits at gate 'confirm-restore': Replace all data of clip with <backup> (taken <time>)? Everything written since is lost (the current database is kept aside).
To decide that one: day2 approve day2-clip --gate confirm-restore --reason "<why>"`,
    );

    // A clean cancel at the gate: nothing changed, the gate closed, said plainly.
    const cancelled = await e2e.cli('cancel', NAME);
    assert.equal(cancelled.exitCode, 0, cancelled.stderr);
    assert.equal(
      normalise(cancelled.stdout),
      `cancellation requested for restore day2-clip (run <run>)
✓ day2-clip CANCELLED: cancelled during 'Confirm restore': nothing was changed
${WEB_UI}`,
    );
    const late = await e2e.cli('approve', NAME, '--reason', 'too late');
    assert.equal(late.exitCode, 3);
    assert.equal(late.stderr, 'day2: day2-clip is CANCELLED: it waits at no gate');
    const status = await e2e.cli('status', NAME);
    assert.match(normalise(status.stdout), /\[!\] Confirm restore \(<t>\) — cancelled while waiting for a decision/);
    const listed = await e2e.cli('--json', 'list', '--deployment', NAME, '--limit', '1');
    const [row] = JSON.parse(listed.stdout) as Array<{ status: string; gate?: string }>;
    assert.equal(row!.status, 'CANCELLED');
    assert.equal(row!.gate, undefined, 'the Day2Gate search attribute was cleared');
  });

  test('a destructive gate approved from a terminal asks y/N (a pty from script(1)); no sends nothing; without --reason nothing is sent', async () => {
    const started = await e2e.cli('restore', backupFile);
    assert.equal(started.exitCode, 4, started.stderr);
    const noReason = await e2e.cli('approve', NAME);
    assert.equal(noReason.exitCode, 2);
    assert.match(noReason.stderr, /a reason is required to approve a gate — pass --reason "<why>"/);

    const no = await onTerminal(['approve', NAME, '--reason', 'pty test'], 'n\n');
    assert.match(no.stdout, /day2-clip waits at gate 'confirm-restore': Replace all data of clip/);
    assert.match(no.stdout, /Approve gate 'confirm-restore' of day2-clip\? This cannot be undone\. \[y\/N\]/);
    assert.match(no.stdout, /not approved \(you answered no\): nothing was sent; day2-clip still waits at gate 'confirm-restore'/);
    assert.equal(no.exitCode, 3);
    const still = await e2e.cli('--json', 'status', NAME);
    assert.equal((JSON.parse(still.stdout) as { progress: { gate?: { name: string } } }).progress.gate?.name, 'confirm-restore');

    // Ctrl-C while following: the operation goes on, and the CLI says how to come back.
    const following = spawnCli(e2e.deployment.configFile, ['status', NAME, '--follow']);
    await following.waitFor(/waiting at gate 'confirm-restore'/);
    following.child.kill('SIGINT');
    const interrupted = await following.child;
    assert.equal(interrupted.exitCode, 130);
    assert.match(
      following.output(),
      /stopped following; the operation goes on on the worker\.\n {2}follow it again: day2 status day2-clip --follow\n {2}cancel it: +day2 cancel day2-clip/,
    );
    assert.equal((await e2e.temporal.client.workflow.getHandle(e2e.workflowId).describe()).status.name, 'RUNNING');

    const yes = await onTerminal(['approve', NAME, '--reason', 'pty test'], 'y\n');
    assert.equal(yes.exitCode, 0, yes.stdout);
    assert.match(yes.stdout, /approved gate 'confirm-restore' of day2-clip/);
    const done = await e2e.cli('status', NAME, '--follow');
    assert.equal(done.exitCode, 0, done.stderr);
  });

  test('a past run is addressable: the RUN column of day2 list names it for status --run', async () => {
    const listed = await e2e.cli('--json', 'list', '--deployment', NAME, '--limit', '50');
    const rows = JSON.parse(listed.stdout) as Array<{ runId: string; operation: string; status: string }>;
    const oldest = rows.at(-1)!;
    const human = await e2e.cli('list', '--deployment', NAME, '--limit', '50');
    const short = oldest.runId.slice(-12);
    assert.match(human.stdout, new RegExp(`\\s${short}\\s`));
    const past = await e2e.cli('status', NAME, '--run', short);
    assert.equal(past.exitCode, 0, past.stderr);
    assert.match(past.stdout, new RegExp(`run ${oldest.runId}\\)`));
    const none = await e2e.cli('status', NAME, '--run', 'ffffffffffff0');
    assert.equal(none.exitCode, 2);
    assert.match(none.stderr, /day2-clip has no run 'ffffffffffff0'/);
  });

  test('quiet prints nothing on success; --json prints one parseable document', async () => {
    const quiet = await e2e.cli('-q', 'backup');
    assert.equal(quiet.exitCode, 0, quiet.stderr);
    assert.equal(quiet.stdout + quiet.stderr, '');
    const json = await e2e.cli('--json', 'status', NAME);
    const parsed = JSON.parse(json.stdout) as { status: string; progress: { operation: string; outcome: string } };
    assert.equal(parsed.status, 'COMPLETED');
    assert.equal(parsed.progress.operation, 'backup');
    assert.match(parsed.progress.outcome, /^backed up to /);
    // --json writes its one document on stdout and nothing else, on either stream.
    for (const args of [
      ['backup'],
      ['backups'],
      ['list', '--deployment', NAME],
      ['preflight'],
      ['cleanup', '--dry-run'],
      ['status', 'day2-nope'],
    ]) {
      const r = await e2e.cli('--json', ...args);
      assert.equal(r.stderr, '', `day2 --json ${args.join(' ')} wrote on stderr`);
      assert.doesNotThrow(() => JSON.parse(r.stdout), `day2 --json ${args.join(' ')}: stdout is not one JSON document:\n${r.stdout}`);
    }
  });
});

/** The CLI on a pseudo-terminal (script(1)), `input` typed into it: stdout and stderr merged, as a person sees them. */
const onTerminal = (args: string[], input: string) => runCliOnTerminal(e2e.deployment.configFile, args, input);

/** Running (`[>]`) lines depend on when the CLI happened to look: the settled lines do not. */
function settled(text: string): string {
  return normalise(text).replace(/^ *\[>\].*\n/gm, '');
}
