// `day2 completion bash|zsh`: shell completion generated from the program itself, so every
// command, subcommand and option the CLI has is completed, and nothing it lacks.
import type { Command, Option } from 'commander';

interface Node {
  path: string;
  subcommands: Array<{ name: string; description: string }>;
  options: Array<{ flag: string; description: string }>;
}

const flagsOf = (o: Option) => [o.long, o.short].filter((f): f is string => Boolean(f));

function nodesOf(cmd: Command, path = '', inherited: Option[] = []): Node[] {
  const options = [...inherited, ...(cmd.options as Option[])];
  const node: Node = {
    path,
    subcommands: cmd.commands.map((c) => ({
      name: c.name(),
      description: c
        .description()
        .split(/[.;:(]/)[0]!
        .trim(),
    })),
    options: [
      ...options.flatMap((o) => flagsOf(o).map((flag) => ({ flag, description: o.description }))),
      { flag: '--help', description: 'show help' },
    ],
  };
  const globals = path ? inherited : (cmd.options as Option[]);
  return [node, ...cmd.commands.flatMap((c) => nodesOf(c, path ? `${path} ${c.name()}` : c.name(), globals))];
}

/** Options that take a value: the word after them is not a command. */
function valueOptions(program: Command): string[] {
  const all: Option[] = [];
  const walk = (c: Command) => (all.push(...(c.options as Option[])), c.commands.forEach(walk));
  walk(program);
  return [...new Set(all.filter((o) => o.required || o.optional).flatMap(flagsOf))].sort();
}

const shellWords = (words: string[]) => words.join(' ');

export function bashCompletion(program: Command): string {
  const nodes = nodesOf(program);
  const cases = nodes.map(
    (n) =>
      `    ${JSON.stringify(n.path)}) words=${JSON.stringify(shellWords([...n.subcommands.map((s) => s.name), ...n.options.map((o) => o.flag)]))} ;;`,
  );
  return `# day2 completion for bash: eval "$(day2 completion bash)" (e.g. in ~/.bashrc)
_day2_value_opts=${JSON.stringify(` ${valueOptions(program).join(' ')} `)}
_day2_paths=${JSON.stringify(`|${nodes.map((n) => n.path).join('|')}|`)}
_day2() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" w i skip=0 words=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$_day2_value_opts" in *" $w "*) skip=1; continue ;; esac
    [[ "$w" == -* ]] && continue
    case "$_day2_paths" in *"|\${cmd:+$cmd }$w|"*) cmd="\${cmd:+$cmd }$w" ;; esac
  done
  case "$_day2_value_opts" in *" \${COMP_WORDS[COMP_CWORD-1]} "*) COMPREPLY=(); return ;; esac
  case "$cmd" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _day2 day2
`;
}

const zshQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const zshItem = (name: string, description: string) => zshQuote(`${name.replace(/:/g, '\\:')}:${description}`);

export function zshCompletion(program: Command): string {
  const nodes = nodesOf(program);
  const cases = nodes.map((n) => {
    const subs = n.subcommands.map((s) => zshItem(s.name, s.description)).join(' ');
    const opts = n.options.map((o) => zshItem(o.flag, o.description)).join(' ');
    return `    ${zshQuote(n.path)})\n      subs=(${subs})\n      opts=(${opts}) ;;`;
  });
  return `#compdef day2
# day2 completion for zsh: eval "$(day2 completion zsh)" (e.g. in ~/.zshrc, after compinit)
_day2() {
  local cmd="" w i skip=0
  local value_opts=${zshQuote(` ${valueOptions(program).join(' ')} `)}
  local paths=${zshQuote(`|${nodes.map((n) => n.path).join('|')}|`)}
  local -a subs opts
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if ((skip)); then skip=0; continue; fi
    [[ "$value_opts" == *" $w "* ]] && { skip=1; continue; }
    [[ "$w" == -* ]] && continue
    [[ "$paths" == *"|\${cmd:+$cmd }$w|"* ]] && cmd="\${cmd:+$cmd }$w"
  done
  [[ "$value_opts" == *" \${words[CURRENT-1]} "* ]] && { _files; return; }
  case "$cmd" in
${cases.join('\n')}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options 'day2 option' opts
  else
    (( \${#subs} )) && _describe -t commands 'day2 command' subs || _files
  fi
}
compdef _day2 day2
`;
}
