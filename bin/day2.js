#!/usr/bin/env node
// Runs the CLI in this very process (never a second node): a supervisor's SIGTERM,
// systemd's stop or `kill -9` of this pid then reach the real worker / dev server, which
// drains and exits itself, and nothing is orphaned.
//
// The built CLI (dist/cli.cjs, from `npm run build`, which `npm install` / `npm ci` run as
// `prepare`) is used when it is there and newer than every file under src/; otherwise (a
// checkout without a build, or sources edited since) the TypeScript runs through tsx.
// DAY2_FROM_SOURCE=1 forces tsx; DAY2_FROM_DIST=1 takes dist/ even when src/ is newer.
// The bundle is compiled with a V8 code cache beside it (dist/cli.cjs.cache, or under
// ~/.cache/day2 when dist/ is read-only), written by the first run that finds none or finds
// one of another bundle (it is keyed by the bundle's SHA-256): later starts skip parsing
// and compiling it.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
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

/** Where the code cache lives: beside the bundle, or (an install this user cannot write
 * to) in the user's cache directory. */
function cacheFileFor() {
  const beside = `${bundle}.cache`;
  try {
    accessSync(path.dirname(bundle), constants.W_OK);
    return beside;
  } catch {
    const dir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'day2');
    return path.join(dir, `cli-${createHash('sha256').update(bundle).digest('hex').slice(0, 16)}.cache`);
  }
}

/** Loads dist/cli.cjs as CommonJS does, but through vm.Script with a code cache. The cache
 * starts with the SHA-256 of the bundle and the Node version it was made from, and is used
 * only when both match: V8 itself checks little more than the source's length, and a
 * bundle replaced by one of the same length must not run the old one's code. */
function loadBundle() {
  const source = readFileSync(bundle);
  const key = createHash('sha256').update(source).update(process.version).digest();
  const cacheFile = cacheFileFor();
  let cachedData;
  try {
    const file = readFileSync(cacheFile);
    if (file.subarray(0, key.length).equals(key)) cachedData = file.subarray(key.length);
  } catch {
    // first run after a build: no cache yet
  }
  // The bundle has no dynamic import(): build.ts inlines every lazily loaded module.
  const script = new vm.Script(Module.wrap(source.toString('utf8')), { filename: bundle, cachedData });
  const mod = new Module(bundle);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  const saveCache = () => {
    if (cachedData && !script.cachedDataRejected) return;
    try {
      mkdirSync(path.dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]));
      renameSync(tmp, cacheFile);
    } catch {
      // nowhere to write it: run without the cache
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
