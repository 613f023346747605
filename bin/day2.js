#!/usr/bin/env node
// Runs the CLI in this very process (never a second node): a supervisor's SIGTERM,
// systemd's stop or `kill -9` of this pid then reach the real worker / dev server, which
// drains and exits itself, and nothing is orphaned.
//
// The built CLI (dist/cli.cjs, from `npm run build`, which `npm install` / `npm ci` run as
// `prepare`) is used when it is there and newer than every file under src/; otherwise (a
// checkout without a build, or sources edited since) the TypeScript runs through tsx.
// DAY2_FROM_SOURCE=1 forces tsx; DAY2_FROM_DIST=1 takes dist/ even when src/ is newer.
// The bundle is compiled with a V8 code cache beside it (dist/cli.cjs.cache), written by
// the first run that finds none: later starts skip parsing and compiling it.
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'cli.cjs');

/** Newest modification time of any file under `dir` (0 when there is no such directory). */
function newestUnder(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(full) : (statSync(full, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  }
  return newest;
}

function builtAndFresh() {
  if (process.env.DAY2_FROM_SOURCE === '1') return false;
  // Benchmarks in a working tree others are editing: measure the build they just made.
  if (process.env.DAY2_FROM_DIST === '1') return true;
  const built = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && built >= newestUnder(path.join(root, 'src'));
}

/** Loads dist/cli.cjs as CommonJS does, but through vm.Script with a code cache. */
function loadBundle() {
  const cacheFile = `${bundle}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // first run after a build: no cache yet
  }
  // The bundle has no dynamic import(): build.ts inlines every lazily loaded module.
  const script = new vm.Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  const mod = new Module(bundle);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  const saveCache = () => {
    if (cachedData && !script.cachedDataRejected) return;
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only install runs without the cache
    }
  };
  return { main: mod.exports.main, saveCache };
}

if (existsSync(bundle) && builtAndFresh()) {
  const { main, saveCache } = loadBundle();
  const code = await main(process.argv);
  saveCache();
  process.exit(code);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/client/main.ts');
  process.exit(await main(process.argv));
}
