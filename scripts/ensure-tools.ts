// Finds (or builds) the external programs day2's dev server, demo and tests need: the
// Temporal CLI (which embeds the dev server; src/temporal-cli.ts, as `day2 dev` needs it
// too), versitygw, PostgreSQL's programs, pgBackRest and Chromium.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pgTool, type PgTool } from '../src/lib/pg-tools';
import { ensureTemporalCli, onPath, temporalCacheDir } from '../src/temporal-cli';
import { findGo, isExecutable } from '../src/temporal-server-binaries';

export { ensureTemporalCli };

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
    if (!isExecutable(fromEnv))
      throw new Error(`VERSITYGW=${fromEnv} does not exist or is not executable. Unset it to let day2 find or build versitygw.`);
    return fromEnv;
  }
  const cached = path.join(temporalCacheDir(), 'versitygw');
  if (isExecutable(cached)) return cached;
  const fromPath = onPath('versitygw');
  if (fromPath) return fromPath;
  const go = findGo();
  if (!go) throw new Error('versitygw was not found and Go is not installed to build it: install Go, or set VERSITYGW=/path/to/versitygw');
  mkdirSync(path.dirname(cached), { recursive: true });
  if (!opts.quiet)
    console.error(`day2: building versitygw ${VERSITYGW_TAG} with go install into ${path.dirname(cached)} (a few minutes, once)…`);
  const result = await execa(go, ['install', `${VERSITYGW_MODULE}@${VERSITYGW_TAG}`], {
    env: { GOBIN: path.dirname(cached) },
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0 || !isExecutable(cached)) {
    throw new Error(
      `Could not build versitygw with go install: ${String(result.all ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join(' | ')}`,
    );
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
  throw new Error(
    'Chromium is not installed: run `apt-get update && apt-get install -y chromium` (Debian), or set DAY2_CHROMIUM=/path/to/chrome',
  );
}

/** pgBackRest, for backup.method pgbackrest and its tests: Debian's package when missing
 * and we are root (as on CI), otherwise a clear instruction. Returns its version line. */
export async function ensurePgbackrest(): Promise<string> {
  const version = async () => (await execa('pgbackrest', ['version'], { reject: false })).stdout?.toString().trim();
  if (await hasCommand('pgbackrest')) return (await version()) ?? 'pgbackrest';
  if (await aptInstall('pgbackrest')) return (await version()) ?? 'pgbackrest';
  throw new Error(
    'pgbackrest is not installed: run `apt-get update && apt-get install -y pgbackrest` as root (Debian/Ubuntu), or install pgBackRest 2.x from https://pgbackrest.org and put it on PATH',
  );
}

// Run directly: where each program is (building or installing what is missing).
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
