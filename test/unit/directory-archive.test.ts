// The one-file form of a directory-format dump: packed and hashed as written, unpacked and
// hashed as read (the same digest), and refused when it holds anything pg_dump never
// writes (a path, a link) or is cut short — never written outside its directory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as tar from 'tar';
import { packDirectory, unpackArchive, withTableOfContents } from '../../src/activities/database/directory-archive';
import { BackupInvalidError } from '../../src/domain/errors';

const work = mkdtempSync(path.join(os.tmpdir(), 'day2-dirarchive-'));
after(() => rmSync(work, { recursive: true, force: true }));
const fresh = (name: string) => {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return dir;
};

function dumpLike(name: string): string {
  const dir = fresh(name);
  writeFileSync(path.join(dir, 'toc.dat'), 'PGDMP toc');
  writeFileSync(path.join(dir, '3342.dat.gz'), Buffer.alloc(300_000, 7));
  writeFileSync(path.join(dir, '3343.dat.gz'), 'rows');
  return dir;
}

test('pack and unpack: toc.dat first, the digest of the bytes written equals that of the bytes read', async () => {
  const tarPath = path.join(work, 'a.tar');
  const packed = await packDirectory(dumpLike('dump'), tarPath);
  assert.equal(packed.sha256, createHash('sha256').update(readFileSync(tarPath)).digest('hex'));
  const members: string[] = [];
  await tar.list({ file: tarPath, onReadEntry: (e) => members.push(e.path) });
  assert.deepEqual(members, ['toc.dat', '3342.dat.gz', '3343.dat.gz']);

  const out = fresh('out');
  assert.deepEqual(await unpackArchive(tarPath, out, 'a.tar'), packed);
  assert.deepEqual(readdirSync(out).sort(), ['3342.dat.gz', '3343.dat.gz', 'toc.dat']);
  assert.deepEqual(readFileSync(path.join(out, '3342.dat.gz')), Buffer.alloc(300_000, 7));

  const listed = await withTableOfContents(tarPath, 'a.tar', async (dir, digest) => ({ files: readdirSync(dir), digest }));
  assert.deepEqual(listed, { files: ['toc.dat'], digest: packed });
});

test('members that pg_dump never writes are refused and not written', async () => {
  const src = fresh('evil-src');
  mkdirSync(path.join(src, 'sub'));
  writeFileSync(path.join(src, 'sub', 'x'), 'x');
  symlinkSync('/etc/passwd', path.join(src, 'link'));
  for (const [name, member] of [
    ['nested', 'sub/x'],
    ['symlink', 'link'],
  ] as const) {
    const tarPath = path.join(work, `${name}.tar`);
    await tar.create({ file: tarPath, cwd: src }, [member]);
    const out = fresh(`evil-out-${name}`);
    await assert.rejects(
      unpackArchive(tarPath, out, name),
      (err: Error) => err instanceof BackupInvalidError && /which pg_dump never writes/.test(err.message),
    );
    assert.deepEqual(readdirSync(out), [], `${name}: nothing written`);
  }
  assert.equal(existsSync(path.join(work, 'x')), false);
});

test('a truncated archive is refused as unreadable', async () => {
  const tarPath = path.join(work, 'cut.tar');
  await packDirectory(dumpLike('dump-cut'), tarPath);
  truncateSync(tarPath, 100_000);
  await assert.rejects(
    unpackArchive(tarPath, fresh('cut-out'), 'cut.tar'),
    (err: Error) =>
      err instanceof BackupInvalidError &&
      /cut\.tar is not a readable directory-format archive \(truncated or corrupt\?\)/.test(err.message),
  );
});
