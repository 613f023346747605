// Finds (or builds) the Temporal server and its SQL schema tool for a PostgreSQL-backed
// cluster (`day2 dev --persistence postgres`, the tests on such a server). Built from Go
// modules with `go install` — no replace directive, no release download — into
// `${XDG_CACHE_HOME:-~/.cache}/day2/temporal-server`, beside the Temporal CLI's cache.
// The module's own source (its schema files and config/development-postgres12.yaml) is
// what the cluster is set up from, so it is located here too.
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/** The server the dev server of Temporal CLI v1.5.1 embeds, so both behave alike. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface TemporalServerBinaries {
  /** go.temporal.io/server/cmd/server */
  server: string;
  /** go.temporal.io/server/cmd/tools/sql (`temporal-sql-tool` in the release images) */
  sqlTool: string;
  /** The module's source: schema/postgresql/v12/…, config/development-postgres12.yaml */
  moduleDir: string;
}

/** `${XDG_CACHE_HOME:-$HOME/.cache}/day2`: the builds every clone shares. */
export function day2CacheHome(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'day2');
}

export function temporalServerCacheDir(): string {
  return path.join(day2CacheHome(), 'temporal-server');
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Go, to build the Go programs day2 needs: on PATH, else where the official tarball puts it. */
export function findGo(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  return isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

const NO_GO =
  'Go is not installed, and it is needed to build the Temporal server (go install ' +
  `${TEMPORAL_SERVER_MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}): install Go (https://go.dev/dl/ or apt-get install golang), ` +
  "or set TEMPORAL_SERVER and TEMPORAL_SQL_TOOL to binaries you built, and TEMPORAL_SERVER_SOURCE to the module's source directory.";

/**
 * The server and sql tool: $TEMPORAL_SERVER / $TEMPORAL_SQL_TOOL when set, else the
 * cached build, else `go install` both into the cache (about 3 minutes the first time).
 */
export async function ensureTemporalServer(opts: { quiet?: boolean } = {}): Promise<TemporalServerBinaries> {
  const cache = temporalServerCacheDir();
  const server = fromEnv('TEMPORAL_SERVER') ?? path.join(cache, 'server');
  const sqlTool = fromEnv('TEMPORAL_SQL_TOOL') ?? path.join(cache, 'sql');
  if (!isExecutable(server) || !isExecutable(sqlTool)) await buildServer(cache, opts.quiet ?? false);
  return { server, sqlTool, moduleDir: await moduleSource() };
}

function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  if (!isExecutable(value)) throw new Error(`${name}=${value} does not exist or is not executable. Unset it to let day2 build it.`);
  return value;
}

async function buildServer(gobin: string, quiet: boolean): Promise<void> {
  const go = findGo();
  if (!go) throw new Error(NO_GO);
  mkdirSync(gobin, { recursive: true });
  const packages = ['cmd/server', 'cmd/tools/sql'].map((p) => `${TEMPORAL_SERVER_MODULE}/${p}@${TEMPORAL_SERVER_VERSION}`);
  if (!quiet)
    console.error(`day2: building the Temporal server ${TEMPORAL_SERVER_VERSION} with go install into ${gobin} (about 3 minutes, once)…`);
  const result = await execa(go, ['install', ...packages], { env: { GOBIN: gobin }, reject: false, all: true });
  if (result.exitCode !== 0) {
    throw new Error(
      `Could not build the Temporal server with go install: ${String(result.all ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join(' | ')}`,
    );
  }
}

/** $TEMPORAL_SERVER_SOURCE, else the module in Go's module cache (downloaded if absent). */
async function moduleSource(): Promise<string> {
  const given = process.env.TEMPORAL_SERVER_SOURCE;
  if (given) {
    if (!existsSync(path.join(given, 'schema', 'postgresql')))
      throw new Error(`TEMPORAL_SERVER_SOURCE=${given} holds no schema/postgresql directory`);
    return given;
  }
  const go = findGo();
  if (!go) throw new Error(NO_GO);
  const modCache = (await execa(go, ['env', 'GOMODCACHE'])).stdout.trim();
  const dir = path.join(modCache, `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(dir))
    await execa(go, ['mod', 'download', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], { env: { GOFLAGS: '-mod=mod' } });
  return dir;
}
