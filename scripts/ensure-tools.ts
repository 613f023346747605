// Finds (or builds) the external programs day2's dev server, demo and tests need: the
// Temporal CLI (which embeds the dev server) and PostgreSQL's programs. Nothing is
// downloaded from GitHub releases: the CLI is built from source with `go install`, which
// only needs the Go module proxy, and cached outside the repo so every clone shares it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pgTool, type PgTool } from '../src/activities/shared/pg-tools';
import { day2CacheHome, isExecutable } from '../src/temporal-server-binaries';

const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
// Newest first; older tags are a fallback for an older Go toolchain or a proxy that lacks
// a tag.
const CLI_TAGS = ['v1.5.1', 'v1.4.1', 'v1.3.0'];

/** Where `go install` puts the CLI: `${XDG_CACHE_HOME:-$HOME/.cache}/day2/bin`. */
export function temporalCacheDir(): string {
  return path.join(day2CacheHome(), 'bin');
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Path of a Temporal CLI: $TEMPORAL_CLI, else the cached build, else `temporal` on PATH,
 * else build it with `go install` into the cache.
 */
export async function ensureTemporalCli(opts: { quiet?: boolean } = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new Error(`TEMPORAL_CLI=${fromEnv} does not exist or is not executable. Unset it to let day2 find or build the CLI.`);
    }
    return fromEnv;
  }
  const cached = path.join(temporalCacheDir(), 'temporal');
  if (isExecutable(cached)) return cached;
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  return buildTemporalCli(cached, opts.quiet ?? false);
}

async function buildTemporalCli(target: string, quiet: boolean): Promise<string> {
  const go = onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it. Either install Go ' +
        '(https://go.dev/dl/ or `apt-get install golang`) and re-run, install the CLI yourself ' +
        '(https://docs.temporal.io/cli) and put `temporal` on PATH, or set TEMPORAL_CLI=/path/to/temporal.',
    );
  }
  const gobin = path.dirname(target);
  mkdirSync(gobin, { recursive: true });
  const failures: string[] = [];
  for (const tag of CLI_TAGS) {
    if (!quiet) {
      console.error(`day2: building the Temporal CLI ${tag} with go install into ${gobin} (the first build takes several minutes)…`);
    }
    const result = await execa(go, ['install', `${CLI_MODULE}@${tag}`], {
      env: { GOBIN: gobin },
      reject: false,
      all: true,
    });
    if (result.exitCode === 0 && isExecutable(target)) {
      if (!quiet && tag !== CLI_TAGS[0]) console.error(`day2: built Temporal CLI ${tag} (${CLI_TAGS[0]} failed).`);
      return target;
    }
    failures.push(`${tag}: ${String(result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  throw new Error(`Could not build the Temporal CLI with go install:\n  ${failures.join('\n  ')}`);
}

const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw';
const VERSITYGW_TAG = 'v1.8.0';

/**
 * Path of versitygw, the S3-compatible server (Apache-2.0, posix backend) the off-site
 * tests run against: $VERSITYGW, else the cached build, else `versitygw` on PATH, else
 * build it with `go install …@v1.8.0` into the same cache as the Temporal CLI.
 */
export async function ensureVersitygw(opts: { quiet?: boolean } = {}): Promise<string> {
  const fromEnv = process.env.VERSITYGW;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`VERSITYGW=${fromEnv} does not exist or is not executable. Unset it to let day2 find or build versitygw.`);
    return fromEnv;
  }
  const cached = path.join(temporalCacheDir(), 'versitygw');
  if (isExecutable(cached)) return cached;
  const fromPath = onPath('versitygw');
  if (fromPath) return fromPath;
  const go = onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new Error('versitygw was not found and Go is not installed to build it: install Go, or set VERSITYGW=/path/to/versitygw');
  mkdirSync(path.dirname(cached), { recursive: true });
  if (!opts.quiet) console.error(`day2: building versitygw ${VERSITYGW_TAG} with go install into ${path.dirname(cached)} (a few minutes, once)…`);
  const result = await execa(go, ['install', `${VERSITYGW_MODULE}@${VERSITYGW_TAG}`], { env: { GOBIN: path.dirname(cached) }, reject: false, all: true });
  if (result.exitCode !== 0 || !isExecutable(cached)) {
    throw new Error(`Could not build versitygw with go install: ${String(result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  return cached;
}

const POSTGRES_TOOLS: PgTool[] = ['initdb', 'pg_ctl', 'pg_dump', 'pg_restore', 'psql'];

/** Paths of the PostgreSQL programs day2 uses; one error naming all that are missing. */
export function ensurePostgresTools(): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const tool of POSTGRES_TOOLS) {
    try {
      found[tool] = pgTool(tool);
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL programs not found: ${missing.join(', ')}. Install them (Debian/Ubuntu: ` +
        `apt-get install postgresql) or set PG_BIN_DIR to the directory that holds them.`,
    );
  }
  return found;
}

/** Installs a Debian package when we may (root, apt-get present); false when we may not. */
async function aptInstall(pkg: string): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const apt = await execa('sh', ['-c', 'command -v apt-get'], { reject: false });
  if (apt.exitCode !== 0) return false;
  console.error(`ensure-tools: installing Debian's ${pkg} package (once)`);
  await execa('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  await execa('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  return true;
}

const hasCommand = async (name: string) => (await execa('sh', ['-c', `command -v ${name}`], { reject: false })).exitCode === 0;

/** Headless Chromium for the Web UI browser check: installed from Debian's packages when
 * missing and we are root (as on CI), otherwise a clear instruction. */
export async function ensureChromium(): Promise<void> {
  if (process.env.DAY2_CHROMIUM || (await hasCommand('chromium')) || (await hasCommand('chromium-browser'))) return;
  if (await aptInstall('chromium')) return;
  throw new Error('Chromium is not installed: run `apt-get update && apt-get install -y chromium` (Debian), or set DAY2_CHROMIUM=/path/to/chrome');
}

/** pgBackRest, for backup.method pgbackrest and its tests: Debian's package when missing
 * and we are root (as on CI), otherwise a clear instruction. Returns its version line. */
export async function ensurePgbackrest(): Promise<string> {
  const version = async () => (await execa('pgbackrest', ['version'], { reject: false })).stdout?.toString().trim();
  if (await hasCommand('pgbackrest')) return (await version()) ?? 'pgbackrest';
  if (await aptInstall('pgbackrest')) return (await version()) ?? 'pgbackrest';
  throw new Error('pgbackrest is not installed: run `apt-get update && apt-get install -y pgbackrest` as root (Debian/Ubuntu), or install pgBackRest 2.x from https://pgbackrest.org and put it on PATH');
}

// No top-level await: the built CLI (dist/cli.cjs, CommonJS) bundles this file for `day2 dev`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void (async () => {
    try {
      console.log(`temporal   ${await ensureTemporalCli()}`);
      console.log(`versitygw  ${await ensureVersitygw()}`);
      for (const [tool, file] of Object.entries(ensurePostgresTools())) console.log(`${tool.padEnd(10)} ${file}`);
      console.log(`pgbackrest ${await ensurePgbackrest()}`);
    } catch (err) {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    }
  })();
}
