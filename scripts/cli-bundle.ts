// The CLI (and worker) as one CommonJS file: src/client/main.ts and everything it imports
// from src/, with packages left in node_modules (one copy of each @temporalio package,
// shared with the worker) but ESM-only execa and a few small ones inlined. Used by
// `npm run build` (dist/cli.cjs) and by the test runner, whose CLI and worker processes run
// this build instead of compiling TypeScript with tsx at every start.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireHere = createRequire(path.join(root, 'package.json'));

const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
/** Packages CommonJS can require stay external; execa (ESM-only) is bundled. */
const INLINED = new Set(['execa', 'commander', 'yaml', 'zod']);
const external = Object.keys(pkg.dependencies).filter((name) => !INLINED.has(name));

/** Loading the packages costs more than the rest of a start: @temporalio/client with its
 * protobuf definitions and gRPC ≈ 0.4 CPU-s, pg, @temporalio/activity and the rest a few
 * tens of ms each. `--help`, config errors and most of a command's set-up never touch
 * them. Each package whose exports are an object (not a function, which a stand-in cannot
 * be) resolves to a stand-in that requires it at the first property access, so the cost is
 * paid only by a command that uses it. */
const isLazy = (name: string) => {
  const pkgName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
  return external.includes(pkgName) && typeof requireHere(name) === 'object';
};
const lazyPackages: Plugin = {
  name: 'lazy-packages',
  setup(b) {
    // The stand-in's own require is of the real, external package.
    b.onResolve({ filter: /^[@a-z]/ }, (args) => {
      if (args.namespace === 'lazy') return { path: args.path, external: true };
      return isLazy(args.path) ? { path: args.path, namespace: 'lazy' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
      // esbuild's ESM interop copies the export names at import: they are listed here, at
      // build time, so that copy does not load the package.
      const names = Object.keys(requireHere(args.path) as object);
      return {
        loader: 'js',
        contents: `
          let real;
          const load = () => (real ??= require(${JSON.stringify(args.path)}));
          const names = ${JSON.stringify(names)};
          module.exports = new Proxy({}, {
            get: (_, key) => load()[key],
            has: (_, key) => names.includes(key),
            ownKeys: () => names,
            getOwnPropertyDescriptor: (_, key) => (names.includes(key) ? { enumerable: true, configurable: true, get: () => load()[key] } : undefined),
          });`,
      };
    });
  },
};

/** Bundles src/client/main.ts into `outfile`, with a linked source map beside it. */
export async function buildCliBundle(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, 'src/client/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: [...external, ...external.map((name) => `${name}/*`)],
    plugins: [lazyPackages],
    // import.meta.url of the bundle: dist/cli.cjs (src/package-root.ts walks up from there).
    define: { 'import.meta.url': '__day2ImportMetaUrl' },
    banner: { js: "const __day2ImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
