// Every `day2` command's --help ends with an example, so a person can copy one and go.
// (A group like `day2 rotate` lists its subcommands; each of those needs the example.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/client/main';

function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp(); // includes the text added with addHelpText('after', …)
  return out;
}

function leafCommands(cmd: Command, prefix = ''): Array<{ name: string; cmd: Command }> {
  return cmd.commands.flatMap((sub) => {
    const name = `${prefix} ${sub.name()}`.trim();
    return sub.commands.length ? leafCommands(sub, name) : [{ name, cmd: sub }];
  });
}

test('every command has --help with an example', () => {
  const { program } = buildProgram();
  const commands = leafCommands(program);
  assert.ok(commands.length >= 10, `found ${commands.map((c) => c.name).join(', ')}`);
  const without = commands.filter(({ cmd }) => !/\nExamples?:\n {2}day2 /.test(helpOf(cmd))).map((c) => c.name);
  assert.deepEqual(without, [], 'commands whose --help has no "Example:" section');
});
