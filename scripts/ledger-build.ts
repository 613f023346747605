// A build of the example ledger service (examples/ledger): its control CLI, API server and
// worker bundled side by side as ES modules, packages left in node_modules. The test runner
// makes one per run: the suite starts and stops the ledger hundreds of times, and tsx would
// compile its TypeScript again at every start. The bundles define LEDGER_BUILD, so the
// control CLI starts the built server and worker beside it (commands/services.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'examples', 'ledger', 'src');

/** Bundles ctl.ts, server.ts and worker.ts into `outdir` as ctl.mjs, server.mjs, worker.mjs. */
export async function buildLedger(outdir: string): Promise<void> {
  await build({
    entryPoints: ['ctl', 'server', 'worker'].map((name) => path.join(src, `${name}.ts`)),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    define: { LEDGER_BUILD: 'true' },
    logLevel: 'warning',
  });
}
