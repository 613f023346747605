// A second reporter for `npm test` (scripts/test.ts): adds up each file's top-level test
// durations and, when the run ends, merges them into $DAY2_TEST_FILE_TIMES (JSON, seconds
// by file) and prints the slowest files. scripts/test.ts starts the slowest files first, so
// three at a time the suite does not end on one long file running alone.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export default async function* fileTimes(source) {
  const seconds = {};
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const file = path.relative(process.cwd(), event.data.file);
      seconds[file] = (seconds[file] ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000;
    }
  }
  const out = process.env.DAY2_TEST_FILE_TIMES;
  if (out) {
    const known = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
    const merged = { ...known, ...Object.fromEntries(Object.entries(seconds).map(([f, s]) => [f, Math.round(s)])) };
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(out, `${JSON.stringify(sorted, null, 2)}\n`);
  }
  const slowest = Object.entries(seconds)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 10);
  if (slowest.length > 1) {
    yield '\nslowest test files (seconds of tests, not counting start-up):\n';
    for (const [file, s] of slowest) yield `  ${s.toFixed(0).padStart(5)}  ${file}\n`;
  }
}
