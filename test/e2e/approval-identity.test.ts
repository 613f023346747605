// Who an approval is recorded as: `--by`, else $DAY2_USER, else the OS user (never
// "unknown"); the automated approver as day2-approver@<host>. The e2e part approves a real
// restore from the CLI with no --by and no $DAY2_USER/$USER/$LOGNAME, and reads the
// decision back from the workflow's history and its progress.
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { approverIdentity } from '../../src/approver/approver';
import { whoDecides } from '../../src/client/operator-identity';
import type { GateDecision, Progress } from '../../src/domain/types';
import { runCli } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';

describe('whoDecides', () => {
  const osUser = () => 'osuser';
  const uid = () => 1234;

  test('--by, else $DAY2_USER, else the OS user', () => {
    assert.equal(whoDecides('alice', { env: { DAY2_USER: 'bob' }, osUser, uid }), 'alice');
    assert.equal(whoDecides('  ', { env: { DAY2_USER: 'bob' }, osUser, uid }), 'bob', 'a blank --by is no name');
    assert.equal(whoDecides(undefined, { env: { USER: 'stale' }, osUser, uid }), 'osuser', 'the OS account before $USER');
  });

  test('no account name: $USER, then $LOGNAME, then the uid; never "unknown"', () => {
    const noUser = () => {
      throw new Error('ENOENT: no passwd entry');
    };
    assert.equal(whoDecides(undefined, { env: { USER: 'u', LOGNAME: 'l' }, osUser: noUser, uid }), 'u');
    assert.equal(whoDecides(undefined, { env: { LOGNAME: 'l' }, osUser: () => '', uid }), 'l');
    assert.equal(whoDecides(undefined, { env: {}, osUser: noUser, uid }), 'uid:1234');
    assert.equal(whoDecides(undefined, { env: {}, osUser: noUser, uid: () => undefined }), `user@${os.hostname()}`);
  });

  test('the real process has a name that is not "unknown"', () => {
    assert.notEqual(whoDecides(), 'unknown');
    assert.match(approverIdentity(), /^day2-approver@.+/);
  });
});

describe('an approval from the CLI without --by', () => {
  const NAME = 'ident';
  let e2e: E2E;
  let backupFile: string;

  before(async () => {
    e2e = await startE2E(NAME);
    await e2e.startService(3);
    await e2e.startWorker();
    backupFile = await e2e.backup();
  });
  after(async () => e2e?.teardown());

  /** The `by` of every `decide` update the workflow's history holds. */
  async function decidedBy(): Promise<string[]> {
    const history = await e2e.temporal.client.workflow.getHandle(e2e.workflowId).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      if (update?.input?.name !== 'decide') return [];
      const [decision] = update.input.args?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p)) ?? [];
      return [(decision as GateDecision).by];
    });
  }

  test('is recorded as the OS user, in history and in progress', async () => {
    const started = await e2e.cli('restore', backupFile);
    assert.equal(started.exitCode, 4, started.stdout + started.stderr);
    // As from a cron job or a bare container: none of the variables that name a person.
    const noNames = { DAY2_USER: undefined, USER: undefined, LOGNAME: undefined } as unknown as Record<string, string>;
    const approved = await runCli(
      e2e.deployment.configFile,
      ['approve', NAME, '--gate', 'confirm-restore', '--reason', 'identity test'],
      noNames,
    );
    assert.equal(approved.exitCode, 0, approved.stderr);

    const expected = os.userInfo().username;
    assert.deepEqual(await decidedBy(), [expected]);
    const done = await e2e.cli('--json', 'status', NAME, '--follow');
    const { progress } = JSON.parse(done.stdout) as { progress: Progress };
    const gate = progress.steps.find((s) => s.name === 'Confirm restore');
    assert.equal(gate?.detail, `approved by ${expected}: identity test`);
  });
});
