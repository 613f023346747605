// What a failed command's message says: the line that tells what went wrong first, then the
// last lines it wrote. A crashed process ends with stack frames ("at Object.<anonymous>"),
// so its last lines alone never show the error; the whole output is kept in a file (see
// failure-log.ts) that the message names.
import { redactCredentials } from '../../domain/mask-credentials';

/** A failed command's output, for the message and for the file that keeps it whole. */
export interface FailedOutput {
  /** `migrations for 1.5.0`, `pg_dump (dump of ledger@db:5432)`: names the file too. */
  what: string;
  /** The command line, when there is one worth recording (masked when written). */
  command?: string;
  exitCode: number | string;
  stdout: string;
  stderr: string;
}

/** Where the whole output went (or why it could not be kept), and how to mask the message. */
export interface KeptOutput {
  file?: string;
  problem?: string;
  mask: (text: string) => string;
}

export type OutputKeeper = (failed: FailedOutput) => Promise<KeptOutput>;

const TAIL_LINES = 4;
const MAX_CHARS = 600;

/** `Error:`, `TypeError [ERR_X]:`, `pg_dump: error:`, `ERROR:`, `FATAL`, `panic:`, `npm ERR!`. */
const ERROR_LINE = /\b(?:\w*(?:Error|Exception)(?: \[[\w-]+\])?|error|ERROR|fatal|FATAL|panic|PANIC):|\bFATAL\b|\bERR!/;

/** Lines of a stack trace: Node/Java `at …`, Python `File "…", line N`, Go goroutines. */
const STACK_FRAME = [
  /^\s+at\s/, // "    at foo (file:1:2)", "    at file:1:2"
  /^\s*\.\.\. \d+ more$/, // Java "... 3 more"
  /^\s*File ".*", line \d+/, // Python
  /^Traceback \(most recent call last\):$/,
  /^goroutine \d+ \[/, // Go
  /^\s+\S+\.go:\d+/, // Go "\t/src/main.go:12 +0x1d"
];

export function isStackFrame(line: string): boolean {
  return STACK_FRAME.some((re) => re.test(line));
}

/** The line that says what went wrong: the first error-looking one, else the first line
 * that is not a stack frame, else the first. */
export function keyLineIndex(lines: readonly string[]): number {
  const error = lines.findIndex((l) => !isStackFrame(l) && ERROR_LINE.test(l));
  if (error >= 0) return error;
  return Math.max(
    lines.findIndex((l) => !isStackFrame(l)),
    0,
  );
}

/**
 * `Error: relation "x" does not exist | … | at a (f:9:1) | Node.js v20.20.2`: the key
 * line, then the last lines (without repeating it), credentials masked, at most `maxChars`.
 * Masking comes before shortening, so a secret is never cut into a part that escapes it.
 */
export function summarizeOutput(text: string, mask: (text: string) => string = redactCredentials, maxChars = MAX_CHARS): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) return '';
  const key = keyLineIndex(lines);
  const start = Math.max(lines.length - TAIL_LINES, 0);
  const tail = lines.slice(start).filter((_, i) => start + i !== key);
  const head = clip(mask(lines[key]!.trim()), Math.floor(maxChars / 2));
  const rest = [...(key < start - 1 ? ['…'] : []), ...tail.map((l) => mask(l.trim()))].join(' | ');
  if (!rest) return head;
  const budget = maxChars - head.length - 3;
  return `${head} | ${rest.length > budget ? `…${rest.slice(-(budget - 1))}` : rest}`;
}

/** The summary of what a failed command wrote: stderr, else stdout. */
export function failureSummary(out: Pick<FailedOutput, 'stdout' | 'stderr'>, mask?: (text: string) => string): string {
  return summarizeOutput(out.stderr.trim() ? out.stderr : out.stdout, mask);
}

/** `<head>: <summary> (full output: <file>)`. */
export function failureMessage(head: string, summary: string, kept?: Pick<KeptOutput, 'file' | 'problem'>): string {
  const where = kept?.file ? ` (full output: ${kept.file})` : kept?.problem ? ` (full output not kept: ${kept.problem})` : '';
  return `${head}${summary ? `: ${summary}` : ''}${where}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
