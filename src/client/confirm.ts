// The y/N question the CLI asks before something that cannot be undone. Only a person at a
// terminal is asked: the question goes to stderr (stdout stays what the command prints, pure
// JSON with --json), and only "y" or "yes" is a yes — Enter, anything else or end of input
// is a no.
import { createInterface } from 'node:readline/promises';

/** Whether a person can be asked: stdin is a terminal (not a pipe, a file, cron). */
export const canAsk = (): boolean => process.stdin.isTTY === true;

export async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-D answers no: readline closes without an answer, which would leave question() pending.
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  try {
    return /^y(es)?$/i.test((await Promise.race([rl.question(`${question} [y/N] `), closed])).trim());
  } finally {
    rl.close();
  }
}
