// A second reporter for `npm test` (scripts/test.ts): adds up each file's top-level test
// durations and writes them as each file reports, into $DAY2_TEST_RUN_TIMES (this run's,
// which scripts/test.ts prints the slowest of) and merged into $DAY2_TEST_FILE_TIMES (JSON,
// seconds by file; scripts/test.ts starts the slowest files first, so three at a time the
// suite does not end on one long file running alone). Written as it goes, not at the end:
// the runner's --test-force-exit ends the process before a reporter's stream does.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line require-yield -- a reporter is a generator; this one writes files, not lines
export default async function* fileTimes(source) {
  const seconds = {};
  const known =
    process.env.DAY2_TEST_FILE_TIMES && existsSync(process.env.DAY2_TEST_FILE_TIMES)
      ? JSON.parse(readFileSync(process.env.DAY2_TEST_FILE_TIMES, 'utf8'))
      : {};
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const file = path.relative(process.cwd(), event.data.file);
      seconds[file] = (seconds[file] ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000;
      write(seconds, known);
    }
  }
}

function write(seconds, known) {
  const rounded = Object.fromEntries(Object.entries(seconds).map(([f, s]) => [f, Math.round(s)]));
  const json = (o) => `${JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b))), null, 2)}\n`;
  if (process.env.DAY2_TEST_RUN_TIMES) writeFileSync(process.env.DAY2_TEST_RUN_TIMES, json(rounded));
  if (process.env.DAY2_TEST_FILE_TIMES) writeFileSync(process.env.DAY2_TEST_FILE_TIMES, json({ ...known, ...rounded }));
}
