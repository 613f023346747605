// `npm run build` (also the `prepare` script, so `npm install` / `npm ci` run it): the CLI
// and worker compiled ahead of time, so no command pays for TypeScript at start-up.
//
//   dist/cli.cjs             src/client/main.ts and everything it imports from src/, one
//                            CommonJS file (scripts/cli-bundle.ts; bin/day2.js loads it with a
//                            V8 code cache).
//   dist/workflow-bundle.js  the workflows, bundled by the Temporal SDK's webpack, which
//                            `day2 worker` run from dist loads instead of bundling at start.
//   dist/build-info.json     when it was built, for bin/day2.js's staleness check.
//
// Usage: tsx scripts/build.ts [--no-workflows]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCliBundle } from './cli-bundle';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const started = Date.now();

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await buildCliBundle(path.join(dist, 'cli.cjs'));

if (!process.argv.includes('--no-workflows')) {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'src/workflows/index.ts'),
    workflowInterceptorModules: [path.join(root, 'src/workflows/host-routing.ts')],
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(path.join(dist, 'workflow-bundle.js'), code);
}

writeFileSync(path.join(dist, 'build-info.json'), `${JSON.stringify({ builtAt: new Date().toISOString() }, null, 2)}\n`);
console.log(`day2: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
