// The CLI's own manners, without any server: --version, shell completion generated from the
// program, a usage error that prints one line of help, and an unreachable Temporal that has
// its own exit code and says how to start one; with --json, the error is the document.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../../src/client/main';
import { bashCompletion, zshCompletion } from '../../src/client/completion';
import { EXIT } from '../../src/domain/errors';
import { runCli } from '../harness/cli';
import { freePort } from '../harness/free-port';

const dir = mkdtempSync(path.join(tmpdir(), 'day2-cli-ux-'));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function unreachableConfig(): Promise<string> {
  const file = path.join(dir, 'day2.yaml');
  writeFileSync(file, `temporal: { address: "127.0.0.1:${await freePort()}" }\ndeployments: {}\n`);
  return file;
}

test('day2 --version prints the package version', async () => {
  const r = await runCli(path.join(dir, 'none.yaml'), ['--version']);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
});

test('a usage error prints the error and one line of help, not the whole help', async () => {
  const cases = [
    [['backup', '--keep'], /error: option '--keep <n>' argument missing/, '(day2 backup --help shows the usage)'],
    [['schedule', 'backup', '--bogus'], /error: unknown option '--bogus'/, '(day2 schedule backup --help shows the usage)'],
    [['bakup'], /error: unknown command 'bakup'\n\(Did you mean backup\?\)/, '(day2 --help shows the usage)'],
  ] as const;
  const results = await Promise.all(cases.map(([args]) => runCli(path.join(dir, 'none.yaml'), [...args])));
  cases.forEach(([args, error, hint], i) => {
    const r = results[i]!;
    assert.equal(r.exitCode, EXIT.badInput, args.join(' '));
    assert.match(r.stderr, error);
    assert.equal(r.stderr.trim().split('\n').at(-1), hint);
    assert.doesNotMatch(r.stderr, /Usage:|Options:/);
  });
});

test('an unreachable Temporal exits 6 and says how to start one; with --json only the error document', async () => {
  const config = await unreachableConfig();
  const [r, json] = await Promise.all([runCli(config, ['list']), runCli(config, ['--json', 'list'])]);
  assert.equal(r.exitCode, EXIT.temporalUnreachable, r.stderr);
  assert.match(r.stderr, /^day2: cannot reach the Temporal server at 127\.0\.0\.1:\d+: .* start a local one with `day2 dev`/);
  assert.equal(json.exitCode, EXIT.temporalUnreachable);
  assert.equal(json.stderr, '');
  assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ['error', 'exitCode']);
});

test('bash completion completes commands, subcommands and options from the program', () => {
  const { program } = buildProgram();
  const script = path.join(dir, 'day2.bash');
  writeFileSync(script, bashCompletion(program));
  const complete = (line: string) => {
    const words = line.split(' ');
    const out = execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _day2; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: 'utf8' },
    );
    return out.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete('day2 res'), ['restore']);
  assert.ok(complete('day2 ').includes('cleanup') && complete('day2 ').includes('completion'));
  const scheduleSubcommands = program.commands.find((c) => c.name() === 'schedule')!.commands.map((c) => c.name());
  assert.deepEqual(
    complete('day2 schedule ').filter((w) => !w.startsWith('-')),
    scheduleSubcommands,
  );
  assert.deepEqual(complete('day2 --config x.yaml cleanup --older'), ['--older-than']);
  assert.deepEqual(complete('day2 cleanup --older-than '), [], 'a value is not completed as a command');
  assert.ok(complete('day2 backup --').includes('--wait-if-busy'));
  assert.ok(complete('day2 backup --').includes('--json'), 'global options too');
});

test('zsh completion is valid zsh (when zsh is installed)', (t) => {
  const script = path.join(dir, '_day2');
  writeFileSync(script, zshCompletion(buildProgram().program));
  if (spawnSync('zsh', ['--version']).error) return t.skip('no zsh here');
  const r = spawnSync('zsh', ['-n', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // With compsys's _describe and _files stubbed: what it offers after `day2 schedule `.
  const offered = execFileSync(
    'zsh',
    [
      '-f',
      '-c',
      `compdef() {}; source ${script}; _describe() { print -l -- "\${(@P)\${@[-1]}}" }; _files() { print FILES }; words=(day2 schedule ''); CURRENT=3; _day2; words=(day2 -c ''); CURRENT=3; _day2`,
    ],
    { encoding: 'utf8' },
  );
  assert.match(offered, /^backup:back the deployment up/m);
  assert.match(offered, /^FILES$/m, 'a value of --config completes as a file');
});
