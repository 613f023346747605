// A long activity's progress reaches where a person looks: the running step of the
// `progress` query and the Web UI's current details (the workflow's metadata query), not
// only the pending activity's heartbeat. The real backup workflow, a stand-in createBackup
// run through the real progress reporter (src/activities/shared/progress-report.ts): first
// it says nothing (how long it has run of its limit is signalled after 5 s), then it
// reports a transfer line, and once the step is done neither is shown any more.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { reportProgress, withProgressReports } from '../../src/activities/shared/progress-report';
import type { Progress } from '../../src/domain/types';
import { manifest, progressOf, StandIns, startWorkflowWorker, type WorkflowWorker } from '../harness/stand-ins';

let wf: WorkflowWorker;
before(async () => {
  wf = await startWorkflowWorker('activity-progress');
});
after(() => wf?.stop());

const TRANSFER = '1.2 GiB of ~3.4 GiB, 85 MiB/s, ~26 s left';

async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return meta.currentDetails ?? '';
}

async function waitFor(handle: WorkflowHandle, what: string, ok: (details: string, p: Progress) => boolean): Promise<string> {
  const deadline = Date.now() + 20_000;
  let details = '';
  while (Date.now() < deadline) {
    details = await currentDetails(handle);
    if (ok(details, await progressOf(handle))) return details;
    await sleep(200);
  }
  assert.fail(`${what} not seen within 20 s; current details:\n${details}`);
}

const dumpStep = (p: Progress) => p.steps.find((s) => s.name === 'Dump and verify')!;

test('a long dump shows its elapsed time and limit, then its transfer line, in the current details and the progress query', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reported!: () => void;
  const mayReport = new Promise<void>((resolve) => (reported = resolve));
  const s = new StandIns().answer('createBackup', () =>
    withProgressReports(async () => {
      await mayReport;
      reportProgress(TRANSFER);
      await released;
      return { manifest: manifest(), reused: false };
    }),
  );
  const handle = await wf.start('backup', { deployment: 'wf' }, s);

  const elapsed = await waitFor(handle, 'the elapsed time and limit', (d) =>
    /▶ Dump and verify — running \d+ s of at most [\d.]+ (s|min|h)/.test(d),
  );
  assert.match(elapsed, /☑ Detect running version/);
  assert.match(dumpStep(await progressOf(handle)).live ?? '', /^running \d+ s of at most/);

  reported();
  await waitFor(handle, 'the transfer line', (d, p) => d.includes(`▶ Dump and verify — ${TRANSFER}`) && dumpStep(p).live === TRANSFER);

  release();
  await handle.result();
  const done = await currentDetails(handle);
  assert.doesNotMatch(done, /GiB of|running \d+ s of/, 'a finished step shows its result, not the last progress line');
  assert.equal(dumpStep(await progressOf(handle)).live, undefined);
  assert.equal(dumpStep(await progressOf(handle)).status, 'done');
});
