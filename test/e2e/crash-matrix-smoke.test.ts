// The crash matrix's smoke subset, run by plain `npm test`: per operation, the uncrashed
// reference, one worker kill at a step boundary and one inside an activity — the most
// dangerous of each (the restore's swap, the upgrade between its migrations and its
// restart, the rotation's new secret written but unreported; see smoke in
// test/harness/crash-operations.ts; the backup also once inside its off-site upload). The
// whole matrix is test/crash/crash-matrix.test.ts.
//
// It runs on a Temporal server with PostgreSQL persistence of its own, as production runs
// (issue: beyond one host), not on the suite's shared dev server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderMatrix } from '../harness/crash-matrix';
import { CRASH_OPERATIONS, startCrashFixture, type CrashFixture } from '../harness/crash-operations';
import { startTemporalOnPostgres, useAsTestServer } from '../harness/temporal-postgres';
import type { TemporalPostgres } from '../../src/temporal-postgres';

let fx: CrashFixture;
let server: TemporalPostgres;
const t0 = Date.now();

before(async () => {
  server = await startTemporalOnPostgres();
  // startE2E (in the fixture) connects to this server instead of the shared one.
  useAsTestServer(server);
  console.log(`crash matrix smoke: Temporal on PostgreSQL at ${server.address} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  // Not a prefix of the full matrix's deployment (cm): its database checks list cm*.
  fx = await startCrashFixture('smoke');
});

after(async () => {
  if (fx?.matrix.results.length) console.log(renderMatrix(fx.matrix.results));
  await fx?.teardown();
  await server?.stop();
  console.log(`crash matrix smoke: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
});

describe('crash matrix (smoke subset)', () => {
  const only = process.env.DAY2_CRASH_ONLY?.split(',');
  for (const name of CRASH_OPERATIONS.filter((n) => !only || only.includes(n))) {
    test(`${name}: a kill at a step boundary and one inside an activity end in the uncrashed end state`, async () => {
      const op = fx.operations.find((o) => o.name === name)!;
      const results = await fx.matrix.run(op, fx.smoke[name]);
      assert.equal(results.length, fx.smoke[name].length + 1, 'the reference and the kills');
      assert.deepEqual(
        results.filter((r) => !r.ok).map((r) => `${r.point}: ${r.detail}`),
        [],
      );
    });
  }
});
