import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { editEnvFile, parseEnvFile, quoteEnvValue, readEnvFile, writeFileAtomic } from '../../src/envfile';

const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-envfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function envFileWith(text: string, mode = 0o600): string {
  const file = path.join(dir, `env-${++counter}`);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

const SAMPLE = [
  '# ledger settings',
  '',
  'DATABASE_URL=postgres://app:s3cret@db:5432/ledger',
  'export APP_VERSION=1.4.2   # pinned by day2',
  "GREETING='hello world'",
  'QUOTED="say \\"hi\\"\\nbye"',
  '  INDENTED = spaced',
  'EMPTY=',
  '',
  '# trailing comment',
  '',
].join('\n');

describe('parseEnvFile', () => {
  it('keeps every line, comment and blank, in order (round trip is byte for byte)', () => {
    assert.equal(parseEnvFile(SAMPLE).toString(), SAMPLE);
    const noFinalNewline = 'A=1\n# c\nB=2';
    assert.equal(parseEnvFile(noFinalNewline).toString(), noFinalNewline);
    const crlf = 'A=1\r\n# c\r\nB="x y"\r\n';
    assert.equal(parseEnvFile(crlf).toString(), crlf);
    assert.equal(parseEnvFile(crlf).get('B'), 'x y');
  });

  it('unquotes values and drops inline comments of bare values', () => {
    const env = parseEnvFile(SAMPLE);
    assert.equal(env.get('DATABASE_URL'), 'postgres://app:s3cret@db:5432/ledger');
    assert.equal(env.get('APP_VERSION'), '1.4.2');
    assert.equal(env.get('GREETING'), 'hello world');
    assert.equal(env.get('QUOTED'), 'say "hi"\nbye');
    assert.equal(env.get('INDENTED'), 'spaced');
    assert.equal(env.get('EMPTY'), '');
    assert.equal(env.get('MISSING'), undefined);
    assert.deepEqual(env.names(), ['DATABASE_URL', 'APP_VERSION', 'GREETING', 'QUOTED', 'INDENTED', 'EMPTY']);
  });

  it('lets the last assignment win, and treats "# A=1" as a comment', () => {
    const env = parseEnvFile('A=1\n# B=2\nA=3\n');
    assert.equal(env.get('A'), '3');
    assert.equal(env.get('B'), undefined);
  });

  it('quotes only when needed, and every quoted form reads back', () => {
    for (const value of ['plain', 'a b', 'x#y', "it's", 'say "hi"', 'back\\slash', 'two\nlines', '$HOME', 'p@ss:w/rd?=&']) {
      const env = parseEnvFile(`V=${quoteEnvValue(value)}\n`);
      assert.equal(env.get('V'), value, `value ${JSON.stringify(value)} as ${quoteEnvValue(value)}`);
    }
    assert.equal(quoteEnvValue('plain'), 'plain');
    assert.equal(quoteEnvValue('a b'), "'a b'");
  });
});

describe('readEnvFile', () => {
  it('returns the effective values', async () => {
    const env = await readEnvFile(envFileWith(SAMPLE));
    assert.equal(env.get('GREETING'), 'hello world');
    assert.equal(env.size, 6);
  });

  it('names the file when it is missing', async () => {
    const missing = path.join(dir, 'nope.env');
    await assert.rejects(readEnvFile(missing), (err: Error) => err.message.includes(missing));
  });
});

describe('editEnvFile', () => {
  it('replaces a value in place (its inline comment kept) and keeps every other line byte for byte', async () => {
    const file = envFileWith(SAMPLE);
    assert.deepEqual(await editEnvFile(file, { set: { APP_VERSION: '1.5.0' } }), { changed: true });
    const expected = SAMPLE.replace('export APP_VERSION=1.4.2   # pinned by day2', 'export APP_VERSION=1.5.0   # pinned by day2');
    assert.equal(readFileSync(file, 'utf8'), expected);
  });

  it('is a no-op when the value is already held: the file is not rewritten', async () => {
    const file = envFileWith(SAMPLE);
    const before = statSync(file);
    assert.deepEqual(await editEnvFile(file, { set: { GREETING: 'hello world', APP_VERSION: '1.4.2' } }), { changed: false });
    const afterStat = statSync(file);
    assert.equal(afterStat.ino, before.ino);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.equal(readFileSync(file, 'utf8'), SAMPLE);
  });

  it("keeps a changed line's inline comment, after bare and quoted values and CRLF line ends", async () => {
    const file = envFileWith('V=1.0.0  # pinned by ops\nQ=\'a b\' # quoted\nD="x\\" # y" # escaped\nH=abc#def\r\nW=1 # crlf\r\n');
    await editEnvFile(file, { set: { V: '1.1.0', Q: 'c', D: 'z', H: 'g', W: '2' } });
    assert.equal(readFileSync(file, 'utf8'), 'V=1.1.0  # pinned by ops\nQ=c # quoted\nD=z # escaped\nH=g\r\nW=2 # crlf\r\n');
    const env = await readEnvFile(file);
    assert.deepEqual([env.get('V'), env.get('Q'), env.get('D'), env.get('W')], ['1.1.0', 'c', 'z', '2']);
  });

  it('appends an absent variable, quoting only when needed', async () => {
    const file = envFileWith('A=1');
    await editEnvFile(file, { set: { B: 'two words', C: 'plain' } });
    assert.equal(readFileSync(file, 'utf8'), "A=1\nB='two words'\nC=plain\n");
  });

  it('comments a variable out once; a second call changes nothing', async () => {
    const file = envFileWith('A=1\nOLD_FLAG=yes\nB=2\n');
    const edit = { commentOut: { names: ['OLD_FLAG'], note: 'removed by day2 for 2.0 (no longer accepted)' } };
    assert.deepEqual(await editEnvFile(file, edit), { changed: true });
    const once = 'A=1\n# removed by day2 for 2.0 (no longer accepted)\n# OLD_FLAG=yes\nB=2\n';
    assert.equal(readFileSync(file, 'utf8'), once);
    assert.deepEqual(await editEnvFile(file, edit), { changed: false });
    assert.equal(readFileSync(file, 'utf8'), once);
    assert.equal((await readEnvFile(file)).has('OLD_FLAG'), false);
  });

  it('removes a variable (every assignment of it), and a second removal is a no-op', async () => {
    const file = envFileWith('# head\nA=1\nPREVIOUS=x\nB=2\nPREVIOUS=y\n');
    assert.deepEqual(await editEnvFile(file, { remove: ['PREVIOUS'] }), { changed: true });
    assert.equal(readFileSync(file, 'utf8'), '# head\nA=1\nB=2\n');
    assert.deepEqual(await editEnvFile(file, { remove: ['PREVIOUS'] }), { changed: false });
  });

  it('keeps the mode of an existing file (0640 stays 0640)', async () => {
    const file = envFileWith('A=1\n', 0o640);
    await editEnvFile(file, { set: { A: '2' } });
    assert.equal(statSync(file).mode & 0o777, 0o640);
  });

  it('creates a missing file with mode 0600', async () => {
    const file = path.join(dir, 'new.env');
    await editEnvFile(file, { set: { SECRET: 'abc' } });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8'), 'SECRET=abc\n');
  });

  it('round-trips quoted values it wrote, and leaves no temporary files behind', async () => {
    const file = envFileWith('');
    const values = { PEM: '-----BEGIN KEY-----\nabc\n-----END KEY-----', PASS: `it's "quoted" #1 $x` };
    await editEnvFile(file, { set: values });
    const env = await readEnvFile(file);
    assert.equal(env.get('PEM'), values.PEM);
    assert.equal(env.get('PASS'), values.PASS);
    assert.deepEqual(await editEnvFile(file, { set: values }), { changed: false });
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('refuses names that are not variable names, and a set+remove of the same name', async () => {
    const file = envFileWith('A=1\n');
    await assert.rejects(editEnvFile(file, { set: { 'A B': '1' } }), { name: 'BadInput' });
    await assert.rejects(editEnvFile(file, { set: { A: '2' }, remove: ['A'] }), { name: 'BadInput' });
    assert.equal(readFileSync(file, 'utf8'), 'A=1\n');
  });
});

describe('writeFileAtomic', () => {
  it('writes with the given mode, else keeps the existing one', async () => {
    const file = path.join(dir, 'version');
    await writeFileAtomic(file, '1.0.0\n', 0o644);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    await writeFileAtomic(file, '1.1.0\n');
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(readFileSync(file, 'utf8'), '1.1.0\n');
  });
});
