// The list of gate names `day2 approve --gate` accepts must hold every gate a workflow
// defines: a name missing there would make a real gate impossible to approve by name.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { assertKnownGate, GATE_NAMES } from '../../src/domain/gate-names';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? files(path.join(dir, n)) : [path.join(dir, n)]));

test('every *_GATE constant under src/ is a known gate name', () => {
  const defined = files(src)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/export const \w+_GATE\s*=\s*'([^']+)'/g)].map((m) => ({ file: path.relative(src, f), name: m[1]! })));
  assert.ok(defined.some((d) => d.name === 'confirm-restore'));
  for (const d of defined) assert.ok(GATE_NAMES.includes(d.name), `gate '${d.name}' (${d.file}) is missing from src/domain/gate-names.ts`);
});

test('an unknown gate name is bad input naming the real ones', () => {
  assert.equal(assertKnownGate('confirm-restore'), 'confirm-restore');
  assert.throws(() => assertKnownGate('nope'), (err: Error) => err.name === 'BadInput' && /no gate 'nope'.*confirm-restore/.test(err.message));
});
