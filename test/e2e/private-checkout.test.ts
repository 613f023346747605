// A checkout in a directory only root may enter (root's home, a `mktemp -d`): the private
// PostgreSQL clusters (demo, tests, drills, benchmarks) run as the OS user `postgres`,
// which cannot reach it, so their files must live where that user can, and be cleaned up
// by the name they were asked under. Runs as root only: elsewhere initdb runs as the
// caller and no other user is involved.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { firstBlockingDirectory, removeScratchCluster, startScratchCluster } from '../../src/lib/scratch-cluster';

const asRoot = process.getuid?.() === 0;
const privateDir = mkdtempSync(path.join(os.tmpdir(), 'day2-private-'));
chmodSync(privateDir, 0o700);
after(() => rmSync(privateDir, { recursive: true, force: true }));

test('firstBlockingDirectory names the first directory a user cannot enter', () => {
  const inside = path.join(privateDir, 'checkout', '.day2');
  mkdirSync(inside, { recursive: true });
  // uid/gid that own nothing here: only the "other" bits count.
  assert.equal(firstBlockingDirectory(inside, 54321, 54321), privateDir);
  assert.equal(firstBlockingDirectory(os.tmpdir(), 54321, 54321), undefined);
  assert.equal(firstBlockingDirectory(inside, 0, 0), undefined, 'root enters anything');
});

test(
  "as root, the demo's cluster starts from a checkout inside a 0700 directory and is removed by its name",
  { skip: !asRoot && 'needs root' },
  async () => {
    // As the demo does: <checkout>/.day2/demo/day2-pg-XXXX
    const demoDir = path.join(privateDir, 'checkout', '.day2', 'demo');
    mkdirSync(demoDir, { recursive: true });
    const requested = mkdtempSync(path.join(demoDir, 'day2-pg-'));
    rmSync(requested, { recursive: true });
    const cluster = await startScratchCluster(requested);
    try {
      assert.ok(!cluster.dir.startsWith(privateDir), `the server's files live outside the private directory (${cluster.dir})`);
      assert.equal(readFileSync(path.join(requested, 'cluster-location'), 'utf8').trim(), cluster.dir);
      const client = new pg.Client({ connectionString: cluster.adminUrl });
      await client.connect();
      try {
        assert.equal((await client.query('select 1 as one')).rows[0].one, 1);
      } finally {
        await client.end();
      }
    } finally {
      // As a crashed run's cleanup does: by the requested name only.
      await removeScratchCluster(requested);
    }
    assert.equal(existsSync(requested), false, 'the requested directory is gone');
    assert.equal(existsSync(cluster.dir), false, 'the relocated cluster is stopped and gone');
  },
);

test('as root, a cluster asked for in a reachable directory stays there', { skip: !asRoot && 'needs root' }, async () => {
  const open = mkdtempSync(path.join(os.tmpdir(), 'day2-open-'));
  chmodSync(open, 0o755);
  const requested = path.join(open, 'pg');
  const cluster = await startScratchCluster(requested);
  try {
    assert.equal(cluster.dir, requested);
    assert.equal(existsSync(path.join(requested, 'data', 'postmaster.pid')), true);
  } finally {
    await cluster.remove();
    rmSync(path.dirname(requested), { recursive: true, force: true });
  }
});
