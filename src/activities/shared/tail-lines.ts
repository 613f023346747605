// The last lines of a file, read from its end: a service log may be gigabytes, and a
// support bundle wants only its tail.
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/** The last `count` lines of `file` (a trailing newline ends the last line, it does not
 * start an empty one). Throws as `open` does (ENOENT) so the caller can say what is missing. */
export async function tailLines(file: string, count: number): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const chunks: Buffer[] = [];
    let newlines = 0;
    let position = size;
    // One newline more than lines wanted: the first line read may be cut off.
    while (position > 0 && newlines <= count) {
      const length = Math.min(CHUNK, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      for (const byte of chunk) if (byte === 0x0a) newlines++;
      chunks.unshift(chunk);
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}
