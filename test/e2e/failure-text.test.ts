// A failed command's message leads with the line that says what went wrong (not the last
// stack frames), and names the file that keeps its whole output, masked.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config';
import type { DeploymentConfig } from '../../src/domain/config-schema';
import { failureSummary, isStackFrame, summarizeOutput } from '../../src/activities/shared/failure-text';
import { failedOutputKeeper } from '../../src/activities/shared/failure-log';
import { runPgProgram } from '../../src/activities/shared/pg-programs';
import { runtimeFor } from '../../src/activities/runtime/select';
import { servicesSections } from '../../src/activities/bundle/sections';
import { createLogger } from '../../src/logger';

const logger = createLogger('test', 'silent');
const frames = (n: number) => Array.from({ length: n }, (_, i) => `    at step${i} (/app/migrate.js:${i + 1}:7)`);

describe('which lines a failure message shows', () => {
  test('a Node crash: the Error line first, then the last lines, not repeated', () => {
    const text = ['Error: relation "x" does not exist', ...frames(10), '', 'Node.js v20.20.2'].join('\n');
    const summary = summarizeOutput(text);
    assert.ok(summary.startsWith('Error: relation "x" does not exist | '), summary);
    assert.equal(
      summary,
      'Error: relation "x" does not exist | … | at step7 (/app/migrate.js:8:7) | at step8 (/app/migrate.js:9:7) | at step9 (/app/migrate.js:10:7) | Node.js v20.20.2',
    );
    assert.equal(summary.split('relation "x"').length, 2, 'the error line is not repeated');
  });

  test("node's uncaught-exception preamble (source line, caret) comes before the error: skipped", () => {
    const text = [
      '/app/migrate.js:3',
      "  throw new Error('boom')",
      '  ^',
      '',
      'TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string',
      ...frames(6),
    ].join('\n');
    assert.match(summarizeOutput(text), /^TypeError \[ERR_INVALID_ARG_TYPE\]: The "path" argument/);
  });

  test('Python, Go, PostgreSQL and pg tools: their error lines', () => {
    const python = [
      'Traceback (most recent call last):',
      '  File "/app/migrate.py", line 9, in <module>',
      '    run()',
      '  File "/app/migrate.py", line 5, in run',
      '    raise ValueError("no column y")',
      'ValueError: no column y',
    ].join('\n');
    assert.match(summarizeOutput(python), /^ValueError: no column y$|^ValueError: no column y \|/);
    const go = [
      'panic: runtime error: index out of range [3] with length 3',
      '',
      'goroutine 1 [running]:',
      'main.main()',
      '\t/src/main.go:12 +0x1d',
      'exit status 2',
    ].join('\n');
    assert.match(summarizeOutput(go), /^panic: runtime error: index out of range/);
    const psql = [
      'psql:/tmp/m.sql:4: NOTICE:  table "t" does not exist, skipping',
      'psql:/tmp/m.sql:9: ERROR:  column "y" of relation "t" does not exist',
      'LINE 1: ALTER TABLE t DROP COLUMN y;',
      '                                  ^',
    ].join('\n');
    assert.match(summarizeOutput(psql), /^psql:\/tmp\/m\.sql:9: ERROR: {2}column "y"/);
    assert.match(
      summarizeOutput('pg_dump: error: connection to server failed: FATAL:  role "x" does not exist'),
      /^pg_dump: error: connection/,
    );
  });

  test('no error-looking line: the first line that is not a stack frame; a short output is all of it', () => {
    assert.match(
      summarizeOutput([...frames(3), 'migration 0003 could not run', ...frames(8)].join('\n')),
      /^migration 0003 could not run \| … \| /,
    );
    assert.equal(summarizeOutput('one\ntwo\nthree'), 'one | two | three');
    assert.equal(summarizeOutput('\n\n'), '');
    assert.ok(isStackFrame('    at file:///app/m.mjs:1:2'));
    assert.ok(isStackFrame('  File "x.py", line 3, in f'));
    assert.ok(!isStackFrame('Error: at the end of the line'));
  });

  test('stderr first, else stdout; credentials masked; bounded in length', () => {
    assert.equal(failureSummary({ stdout: 'Error: from stdout', stderr: '' }), 'Error: from stdout');
    assert.match(
      failureSummary({ stdout: 'noise', stderr: 'Error: cannot connect to postgres://app:hunter22@db/x' }),
      /^Error: cannot connect to postgres:\/\/\[REDACTED\]@db\/x$/,
    );
    const long = ['Error: ' + 'e'.repeat(2000), ...Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(300)}`)].join('\n');
    const summary = summarizeOutput(long);
    assert.ok(summary.length <= 600, String(summary.length));
    assert.match(summary, /^Error: e+… \| …x+$/);
  });
});

describe('a failed command through the runtime adapter', () => {
  let dir: string;
  let d: DeploymentConfig;
  const SECRET = 'sk-live-0123456789abcdef';
  const PASSWORD = 'owner-pw-9876543210';
  // A real migration that crashes: it prints progress, echoes the key by mistake, throws.
  const script = [
    `console.log('applying 0002_add_column to ' + process.env.DATABASE_URL);`,
    `console.error('debug: using key ${SECRET}');`,
    `function applyMigration() { throw new Error('relation "x" does not exist'); }`,
    `function runAll() { applyMigration(); }`,
    `runAll();`,
  ].join(' ');

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-failure-'));
    writeFileSync(path.join(dir, '.env'), `API_KEY_SECRET=${SECRET}\nDATABASE_URL=postgres://app@db/app\n`);
    const config = parseConfig(
      {
        deployments: {
          svc: {
            runtime: { kind: 'commands', cwd: dir, start: 'true', stop: 'true', migrate: `node -e "${script.replace(/"/g, '\\"')}"` },
            envFile: '.env',
            health: { ready: 'http://127.0.0.1:1/ready' },
            backup: { dir: 'backups' },
          },
        },
      },
      dir,
    );
    d = config.deployments.svc!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let message = '';
  let file = '';

  test('the message starts with the error line and names the file with the whole output', async () => {
    await assert.rejects(runtimeFor(d, logger).migrate('1.5.0', `postgres://owner:${PASSWORD}@db/app`), (err: Error) => {
      message = err.message;
      return true;
    });
    assert.match(message, /^migrations for 1\.5\.0 failed \(exit 1\): Error: relation "x" does not exist \| /);
    const named = /\(full output: (\S+\.log)\)$/.exec(message);
    assert.ok(named, message);
    file = named[1]!;
    assert.equal(path.dirname(file), path.join(dir, 'backups', 'logs'));
    assert.ok(!message.includes(SECRET) && !message.includes(PASSWORD), message);
  });

  test('the file holds stdout and stderr whole, masked, readable by its owner only', () => {
    assert.ok(file, 'the previous test named a file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^# migrations for 1\.5\.0 failed \(exit 1\) at \d{4}-/);
    assert.match(text, /^applying 0002_add_column to postgres:\/\/\[REDACTED\]@db\/app$/m);
    assert.match(text, /^debug: using key \[REDACTED\]$/m, "the env file's secret values are masked");
    assert.match(text, /^Error: relation "x" does not exist$/m);
    assert.match(text, /at applyMigration/);
    assert.match(text, /at runAll/);
    assert.ok(!text.includes(SECRET) && !text.includes(PASSWORD));
  });

  test('a second failure writes a second file; the support bundle carries the newest', async () => {
    await assert.rejects(runtimeFor(d, logger).migrate('1.5.0'), /full output: /);
    const sections = await servicesSections(d, logger, 1000, [SECRET]);
    const failed = sections.find((s) => s.result.name === 'failed command output');
    assert.ok(failed, JSON.stringify(sections.map((s) => s.result)));
    assert.match(failed.result.detail, /^the 2 newest of 2 in /);
    assert.equal(failed.files.length, 2);
    assert.ok(failed.files.some((f) => f.path === `failures/${path.basename(file)}`));
    for (const f of failed.files) assert.match(f.text, /Error: relation "x" does not exist/);
  });

  test('pg programs: the error line, and the whole output kept when the caller asks', async () => {
    const bad = path.join(dir, 'not-a-dump');
    writeFileSync(bad, 'hello\n');
    await assert.rejects(
      runPgProgram({ tool: 'pg_restore', args: ['--list', bad], what: 'archive not-a-dump', keepOutput: failedOutputKeeper(d) }),
      (err: Error) => {
        assert.match(err.message, /^pg_restore failed \(archive not-a-dump, exit 1\): pg_restore: error: /);
        const kept = /\(full output: (\S+)\)$/.exec(err.message)?.[1];
        assert.ok(kept && path.basename(kept).includes('pg-restore-archive-not-a-dump'), err.message);
        assert.match(readFileSync(kept, 'utf8'), /^--- stderr ---\npg_restore: error: /m);
        return true;
      },
    );
  });
});
