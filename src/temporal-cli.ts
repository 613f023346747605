// The Temporal CLI (it embeds the dev server `day2 dev` runs), found or built. Nothing is
// downloaded from GitHub releases: the CLI is built from source with `go install`, which
// only needs the Go module proxy, and cached outside the repo so every clone shares it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { day2CacheHome, findGo, isExecutable } from './temporal-server-binaries';

const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
// Newest first; older tags are a fallback for an older Go toolchain or a proxy that lacks
// a tag.
const CLI_TAGS = ['v1.5.1', 'v1.4.1', 'v1.3.0'];

/** Where `go install` puts the CLI: `${XDG_CACHE_HOME:-$HOME/.cache}/day2/bin`. */
export function temporalCacheDir(): string {
  return path.join(day2CacheHome(), 'bin');
}

export function onPath(name: string): string | undefined {
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
  const go = findGo();
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
    failures.push(
      `${tag}: ${String(result.all ?? '')
        .trim()
        .split('\n')
        .slice(-3)
        .join(' | ')}`,
    );
  }
  throw new Error(`Could not build the Temporal CLI with go install:\n  ${failures.join('\n  ')}`);
}
