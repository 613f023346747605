// `bin/day2.js` is what supervisors, pidfiles, systemd and `npx day2` start: the pid they
// hold must be the process that runs, so a SIGTERM drains the worker / stops the dev
// server, and nothing is left behind, not even after a SIGKILL of `day2 dev`.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'day2.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-bin-'));
let e2e: E2E;

before(async () => {
  e2e = await startE2E('launch-signals');
});
after(async () => {
  await e2e?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** Pids of live processes whose command line mentions `needle`, but for this test's own. */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function launch(args: string[], ready: RegExp): { child: ResultPromise; output: () => string; started: Promise<void> } {
  let output = '';
  const child = execa(BIN, args, {
    reject: false,
    buffer: false,
    all: true,
    env: { DAY2_WORKFLOW_BUNDLE: process.env.DAY2_WORKFLOW_BUNDLE ?? '' },
  });
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = until(`"${ready.source}" from ${args.join(' ')}`, () => ready.test(output), 90_000);
  return { child, output: () => output, started };
}

test('SIGTERM to the pid bin/day2.js was started as drains the worker, and no day2 process is left', async () => {
  const worker = launch(['--config', e2e.deployment.configFile, 'worker'], /worker running/);
  await worker.started;
  assert.deepEqual(
    processesMentioning(e2e.deployment.configFile).sort(),
    [worker.child.pid],
    'the launched pid is the only process: it is the worker',
  );
  worker.child.kill('SIGTERM');
  const result = await worker.child;
  assert.equal(result.exitCode, 0, worker.output());
  assert.match(worker.output(), /worker stopped/, 'the worker drained and said so');
  assert.deepEqual(processesMentioning(e2e.deployment.configFile), []);
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} to the pid of \`day2 dev\` started by bin/day2.js leaves no Temporal server behind`, async () => {
    const db = path.join(dir, `dev-${signal}.db`);
    const [port, uiPort] = [await freePort(), await freePort()];
    const dev = launch(['dev', '--port', String(port), '--ui-port', String(uiPort), '--db', db], /Temporal dev server at/);
    await dev.started;
    const servers = processesMentioning(db).filter((pid) => pid !== dev.child.pid);
    assert.equal(servers.length, 1, `one temporal server process for ${db}: ${servers.join(', ')}`);
    dev.child.kill(signal);
    await dev.child;
    await until(`the temporal server ${servers[0]} to exit after ${signal}`, () => processesMentioning(db).length === 0);
  });
}
