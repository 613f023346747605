// The service's only configuration source is the env file named on its command line:
// never process.env, so that what day2 writes into that file is exactly what runs.
import { readFileSync } from 'node:fs';
import { LedgerError } from './errors';

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Parses `KEY=VALUE` lines; blank lines and `#` comments are ignored, quotes are optional. */
export function parseEnvFile(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const [, key, value] = match;
    if (key !== undefined) vars.set(key, unquote(value ?? ''));
  }
  return vars;
}

function unquote(value: string): string {
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    if (end > 0) return value.slice(1, end);
  }
  // A value may carry a trailing comment: `PORT=8080 # api`.
  return value.replace(/\s+#.*$/, '').trim();
}

export function readEnvFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LedgerError(`cannot read env file ${path}${code ? ` (${code})` : ''}`);
  }
  return parseEnvFile(text);
}
