// backup.format, backup.jobs and backup.compression: what the config accepts, and the
// pg_dump arguments each compression becomes for the worker's pg_dump (15: gzip levels
// only; 16+: method[:level]).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config';
import { compressionArgs, parseCompression } from '../../src/domain/dump-compression';
import { BadInputError } from '../../src/domain/errors';

const withBackup = (backup: Record<string, unknown>) => ({
  deployments: {
    x: {
      runtime: { kind: 'commands', start: 'true', stop: 'true' },
      envFile: '.env',
      health: { ready: 'http://127.0.0.1:1/ready' },
      backup: { dir: 'backups', ...backup },
    },
  },
});
const outcome = (backup: Record<string, unknown>) => {
  try {
    return parseConfig(withBackup(backup), '/tmp').deployments.x!.backup;
  } catch (err) {
    return (err as Error).message;
  }
};

test('format defaults to custom; directory takes jobs and a compression', () => {
  const defaults = outcome({});
  assert.equal(typeof defaults === 'object' && defaults.format, 'custom');
  const dir = outcome({ format: 'directory', jobs: 4, compression: 'zstd:3' });
  assert.ok(typeof dir === 'object');
  assert.deepEqual([dir.format, dir.jobs, dir.compression], ['directory', 4, 'zstd:3']);
  assert.ok(typeof outcome({ compression: 0 }) === 'object', 'custom takes a compression too');
});

test('bad values are refused naming the key and what is expected', () => {
  assert.match(String(outcome({ jobs: 2 })), /backup\.jobs: jobs needs format: directory/);
  assert.match(String(outcome({ format: 'tar' })), /backup\.format/);
  assert.match(String(outcome({ format: 'directory', jobs: 0 })), /backup\.jobs/);
  for (const bad of ['gzip:10', 'lz4:13', 'zstd:23', 'brotli', 'gzip:', 10, -1]) {
    assert.match(String(outcome({ compression: bad })), /backup\.compression/, `${bad} is refused`);
  }
});

test('parseCompression: levels, methods, none', () => {
  assert.deepEqual(parseCompression(0), { method: 'none' });
  assert.deepEqual(parseCompression('7'), { method: 'gzip', level: 7 });
  assert.deepEqual(parseCompression('gzip'), { method: 'gzip' });
  assert.deepEqual(parseCompression('lz4:9'), { method: 'lz4', level: 9 });
  assert.deepEqual(parseCompression('zstd'), { method: 'zstd' });
  assert.throws(() => parseCompression('zstd:99'), BadInputError);
});

test('pg_dump 15: gzip as a bare level; lz4 and zstd refused with what to do', () => {
  assert.deepEqual(compressionArgs(undefined, 15), []);
  assert.deepEqual(compressionArgs(5, 15), ['--compress=5']);
  assert.deepEqual(compressionArgs('gzip:3', 15), ['--compress=3']);
  assert.deepEqual(compressionArgs('gzip', 15), ['--compress=6']);
  assert.deepEqual(compressionArgs('none', 15), ['--compress=0']);
  for (const method of ['lz4', 'zstd:3']) {
    assert.throws(
      () => compressionArgs(method, 15),
      (err: Error) =>
        err instanceof BadInputError &&
        /pg_dump is version 15, which compresses with gzip only/.test(err.message) &&
        /set backup\.compression to a gzip level \(0\.\.9 or gzip:N\), or install PostgreSQL 16\+ client tools/.test(err.message),
    );
  }
});

test('pg_dump 16+: method[:level] as given', () => {
  assert.deepEqual(compressionArgs('zstd:3', 16), ['--compress=zstd:3']);
  assert.deepEqual(compressionArgs('lz4', 17), ['--compress=lz4']);
  assert.deepEqual(compressionArgs(0, 16), ['--compress=none']);
  assert.deepEqual(compressionArgs(4, 16), ['--compress=gzip:4']);
});
