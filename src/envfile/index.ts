// The deployment's env file (`.env`), read and edited the way an operator would with an
// editor: every comment, blank line and the order survive; only the lines we change
// change. Edits are idempotent (a value already held is not rewritten) and atomic.
// Values are secrets: nothing here logs them, and errors name variables, never values.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config';
import { BadInputError } from '../domain/errors';
import { writeFileAtomic } from '../lib/atomic-file';

export { writeFileAtomic } from '../lib/atomic-file';

export type EnvLine = { kind: 'other'; raw: string } | { kind: 'var'; raw: string; name: string; value: string };

export interface EnvFile {
  lines: EnvLine[];
  /** '\r\n' when the file uses Windows line ends; new lines follow suit. */
  eol: '\n' | '\r\n';
  endsWithNewline: boolean;
  /** The value in effect (the last assignment wins, as when a shell sources the file). */
  get(name: string): string | undefined;
  names(): string[];
  toString(): string;
}

export interface EnvEdits {
  set?: Record<string, string>;
  remove?: string[];
  commentOut?: { names: string[]; note: string };
}

const ASSIGNMENT = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvFile(text: string): EnvFile {
  const endsWithNewline = text.endsWith('\n');
  const body = endsWithNewline ? text.slice(0, -1) : text;
  const raws = body === '' && !endsWithNewline ? [] : body.split('\n');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return makeEnvFile(raws.map(parseLine), eol, endsWithNewline);
}

function makeEnvFile(lines: EnvLine[], eol: EnvFile['eol'], endsWithNewline: boolean): EnvFile {
  const vars = () => lines.filter((l): l is Extract<EnvLine, { kind: 'var' }> => l.kind === 'var');
  return {
    lines,
    eol,
    endsWithNewline,
    get: (name) =>
      vars()
        .filter((l) => l.name === name)
        .pop()?.value,
    names: () => [...new Set(vars().map((l) => l.name))],
    toString: () => lines.map((l) => l.raw).join('\n') + (endsWithNewline ? '\n' : ''),
  };
}

function parseLine(raw: string): EnvLine {
  const match = ASSIGNMENT.exec(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  if (!match || raw.trimStart().startsWith('#')) return { kind: 'other', raw };
  return { kind: 'var', raw, name: match[3]!, value: unquote(match[4]!) };
}

/** `'…'` is literal; `"…"` understands \n, \" and \\; bare values end at ` #`. */
function unquote(rawValue: string): string {
  if (rawValue.startsWith("'")) {
    const end = rawValue.indexOf("'", 1);
    if (end > 0) return rawValue.slice(1, end);
  }
  if (rawValue.startsWith('"')) {
    let out = '';
    for (let i = 1; i < rawValue.length; i++) {
      const c = rawValue[i]!;
      if (c === '"') return out;
      if (c === '\\' && i + 1 < rawValue.length) {
        const next = rawValue[++i]!;
        out += next === 'n' ? '\n' : next === 'r' ? '\r' : next === '"' || next === '\\' ? next : `\\${next}`;
      } else out += c;
    }
    // No closing quote: fall through and treat the text as a bare value.
  }
  const comment = /\s#/.exec(rawValue);
  return (comment ? rawValue.slice(0, comment.index) : rawValue).trim();
}

/** The ` # …` after a value (with the space before it), kept when the value changes: the
 * operator's note on why it is pinned matters more after an upgrade than before. */
function inlineComment(rawValue: string): string {
  let rest = rawValue;
  const quote = rawValue[0];
  if (quote === "'" || quote === '"') {
    // Past the closing quote (a backslash escapes inside double quotes).
    for (let i = 1; i < rawValue.length; i++) {
      if (quote === '"' && rawValue[i] === '\\') i++;
      else if (rawValue[i] === quote) {
        rest = rawValue.slice(i + 1);
        break;
      }
    }
    if (rest === rawValue) return '';
  }
  const comment = /\s+#.*$/.exec(rest);
  return comment ? comment[0] : '';
}

/** Bare when that reads back the same; single quotes when possible (literal in every
 * dotenv dialect, and compose does not interpolate `$` in them); else double quotes. */
export function quoteEnvValue(value: string): string {
  if (!/[\s#'"\\$`]/.test(value)) return value;
  if (!value.includes("'") && !/[\r\n]/.test(value)) return `'${value}'`;
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `"${escaped}"`;
}

export async function readEnvFile(file: string): Promise<Map<string, string>> {
  const env = await loadEnvFile(file);
  if (!env) throw new ConfigError(`env file ${file} not found (the deployment's envFile in day2.yaml)`);
  return new Map(env.names().map((name) => [name, env.get(name)!]));
}

async function loadEnvFile(file: string): Promise<EnvFile | undefined> {
  try {
    return parseEnvFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Applies `edits` (comment out, then remove, then set) and rewrites the file only if a
 * line changed. A missing file is created (0600) when there is something to set.
 */
export async function editEnvFile(file: string, edits: EnvEdits): Promise<{ changed: boolean }> {
  validateEdits(edits);
  const env = (await loadEnvFile(file)) ?? parseEnvFile('');
  const edited = applyEdits(env, edits);
  if (edited.toString() === env.toString()) return { changed: false };
  await writeFileAtomic(file, edited.toString());
  return { changed: true };
}

/** Pure: the file after the edits. Lines not named by an edit are kept byte for byte. */
export function applyEdits(env: EnvFile, edits: EnvEdits): EnvFile {
  const cr = env.eol === '\r\n' ? '\r' : '';
  let lines = [...env.lines];

  const commentOut = new Set(edits.commentOut?.names ?? []);
  if (commentOut.size) {
    const note = edits.commentOut!.note;
    lines = lines.flatMap((l): EnvLine[] =>
      l.kind === 'var' && commentOut.has(l.name)
        ? [
            { kind: 'other', raw: `# ${note}${cr}` },
            { kind: 'other', raw: `# ${l.raw}` },
          ]
        : [l],
    );
  }

  const remove = new Set(edits.remove ?? []);
  lines = lines.filter((l) => !(l.kind === 'var' && remove.has(l.name)));

  let endsWithNewline = env.endsWithNewline;
  for (const [name, value] of Object.entries(edits.set ?? {})) {
    const index = lastIndexOfVar(lines, name);
    const current = lines[index];
    if (current?.kind === 'var') {
      if (current.value === value) continue;
      // Keep the line's indentation and `export ` prefix; replace only the value.
      const lineCr = current.raw.endsWith('\r') ? '\r' : '';
      const prefix = ASSIGNMENT.exec(lineCr ? current.raw.slice(0, -1) : current.raw)!;
      const comment = inlineComment(prefix[4]!);
      lines[index] = { kind: 'var', name, value, raw: `${prefix[1]}${prefix[2] ?? ''}${name}=${quoteEnvValue(value)}${comment}${lineCr}` };
    } else {
      lines.push({ kind: 'var', name, value, raw: `${name}=${quoteEnvValue(value)}${cr}` });
      endsWithNewline = true;
    }
  }
  // An appended line follows the old last line, which therefore gained its line end.
  return makeEnvFile(lines, env.eol, lines.length > 0 && endsWithNewline);
}

function lastIndexOfVar(lines: EnvLine[], name: string): number {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.kind === 'var' && line.name === name) return i;
  }
  return -1;
}

function validateEdits(edits: EnvEdits): void {
  const setNames = Object.keys(edits.set ?? {});
  const named = [...setNames, ...(edits.remove ?? []), ...(edits.commentOut?.names ?? [])];
  const bad = named.filter((n) => !VAR_NAME.test(n));
  if (bad.length) throw new BadInputError(`not a variable name: ${bad.map((n) => `'${n}'`).join(', ')}`);
  const twice = setNames.filter((n) => edits.remove?.includes(n) || edits.commentOut?.names.includes(n));
  if (twice.length) throw new BadInputError(`variable(s) both set and removed in one edit: ${twice.join(', ')}`);
  if (edits.commentOut && /[\r\n]/.test(edits.commentOut.note)) {
    throw new BadInputError('the note of a commented-out variable must be one line');
  }
}
