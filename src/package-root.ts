// Where day2's own files are (package.json, src/workflows, dist/), found from a module's
// URL: the same answer whether that module runs from src/ (tsx) or from the dist/ bundle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRootOf(moduleUrl: string): string {
  const start = path.dirname(fileURLToPath(moduleUrl));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..');
  }
}

/** True when the module is part of the built CLI (dist/cli.cjs), not the TypeScript source. */
export function runsFromDist(moduleUrl: string): boolean {
  return path.basename(path.dirname(fileURLToPath(moduleUrl))) === 'dist';
}
