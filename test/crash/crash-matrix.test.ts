// The whole crash matrix (test/harness/crash-matrix.ts): every operation of
// test/harness/crash-operations.ts is run uncrashed, then with its worker SIGKILLed at every
// step boundary, inside every long activity (and the quick ones whose retry is risky), and
// across a restart of the Temporal server; every end state must equal the uncrashed one.
// Minutes long, so not part of plain `npm test` (scripts/test.ts skips test/crash/): run it
// with `npx tsx scripts/test.ts test/crash/crash-matrix.test.ts`. `npm test` runs the smoke
// subset (test/e2e/crash-matrix-smoke.test.ts). DAY2_CRASH_BACKUP_FORMAT=directory runs it
// with backup.format directory (e.g. with DAY2_CRASH_ONLY=backup,restore).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderMatrix } from '../harness/crash-matrix';
import { CRASH_OPERATIONS, startCrashFixture, type CrashFixture } from '../harness/crash-operations';

let fx: CrashFixture;
const t0 = Date.now();

before(async () => {
  const t = Date.now();
  fx = await startCrashFixture('cm');
  console.log(`crash matrix: fixture ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
});

after(async () => {
  const t = Date.now();
  if (fx?.matrix.results.length) console.log(renderMatrix(fx.matrix.results));
  await fx?.teardown();
  console.log(`crash matrix: teardown in ${((Date.now() - t) / 1000).toFixed(1)} s; ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
});

describe('crash matrix', () => {
  // DAY2_CRASH_ONLY=upgrade,rollback runs only those operations (while working on them).
  const only = process.env.DAY2_CRASH_ONLY?.split(',');
  for (const name of CRASH_OPERATIONS) {
    if (only && !only.includes(name)) continue;
    test(`${name}: every kill point ends in the uncrashed end state`, async () => {
      const op = fx.operations.find((o) => o.name === name);
      assert.ok(op, `${name} is one of the matrix's operations`);
      const results = await fx.matrix.run(op);
      const failed = results.filter((r) => !r.ok);
      assert.ok(results.length > 3, 'kill points were found');
      assert.deepEqual(
        failed.map((r) => `${r.point}: ${r.detail}`),
        [],
      );
    });
  }
});
