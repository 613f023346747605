// Retention sweeps what crashed backups left, also the `.dir.partial` directory of a
// directory-format dump: stale only when nothing in it was written for an hour (pg_dump's
// jobs keep writing its files, not the directory), never a live one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { applyRetentionInDir } from '../../src/activities/database/backup-retention';
import { createLogger } from '../../src/logger';

const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-retention-dirs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a stale partial directory is removed with its files; one whose files are still written is kept', async () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  const partialDir = (name: string, dirAge: number, fileAge: number) => {
    const d = path.join(dir, name);
    mkdirSync(d);
    writeFileSync(path.join(d, 'toc.dat'), 'toc');
    writeFileSync(path.join(d, '3342.dat.gz'), 'rows');
    for (const f of ['toc.dat', '3342.dat.gz']) utimesSync(path.join(d, f), hoursAgo(fileAge), hoursAgo(fileAge));
    utimesSync(d, hoursAgo(dirAge), hoursAgo(dirAge));
  };
  partialDir('.x-2026-01-01-000000.dump.run1.dir.partial', 3, 2); // crashed long ago
  partialDir('.x-2026-01-01-000001.dump.run2.dir.partial', 3, 0); // pg_dump still writing its files

  const outcome = await applyRetentionInDir(dir, { keep: 1 }, [], createLogger('test', 'silent'));
  assert.deepEqual(outcome.sweptLeftovers, ['.x-2026-01-01-000000.dump.run1.dir.partial']);
  assert.deepEqual(readdirSync(dir), ['.x-2026-01-01-000001.dump.run2.dir.partial']);
});
