// The reusable V8 context gives every cached workflow its own instance of each module in the
// workflow bundle. zod alone cost each one ≈ 0.6 MB of heap (100 backups at once: worker
// peak 409–430 MiB with zod in the bundle, 310 MiB without), so the workflows' import graph
// must stay clear of it: this walks the value imports from the bundle's entry points.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRIES = ['src/workflows/index.ts', 'src/workflows/host-routing.ts'];
// `import type …` / `export type … from` are erased; anything else is bundled.
const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm;

function packagesReached(): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, typeOnly, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (typeOnly) continue;
      if (!spec!.startsWith('.')) {
        packages.set(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!, path.relative(root, file));
        continue;
      }
      const target = path.resolve(path.dirname(file), spec!);
      visit(target.endsWith('.ts') ? target : `${target}.ts`);
    }
  };
  for (const entry of ENTRIES) visit(path.join(root, entry));
  return packages;
}

test('the workflow bundle imports no package but the workflow SDK and ms (no zod)', () => {
  const packages = packagesReached();
  assert.ok(packages.has('@temporalio/workflow'), 'the walk found the workflows’ imports');
  for (const [name, from] of packages) {
    assert.ok(['@temporalio/workflow', '@temporalio/common', 'ms'].includes(name), `${from} brings ${name} into every cached workflow`);
  }
});
