// Loads day2.yaml, validates it with zod, and resolves relative paths against the file's
// directory. The only module that reads environment variables.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { day2ConfigSchema, type Day2Config, type DeploymentConfig } from './domain/config-schema';
import { closeSpelling, knownKeysAt } from './domain/config-keys';
import { BadInputError } from './domain/errors';

export type { Day2Config, DeploymentConfig };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The config file: --config, then $DAY2_CONFIG, then ./day2.yaml. */
export function configPath(explicit?: string): string {
  return path.resolve(explicit ?? process.env.DAY2_CONFIG ?? 'day2.yaml');
}

export function loadConfig(file = configPath()): Day2Config {
  if (!existsSync(file)) {
    throw new ConfigError(`config file ${file} not found — create day2.yaml (see README) or pass --config / set DAY2_CONFIG`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(raw, path.dirname(file), file);
}

/** Validates a parsed config; paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string, source = 'config'): Day2Config {
  const parsed = day2ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source}: ${formatIssues(parsed.error, day2ConfigSchema)}`);
  const config = parsed.data;
  if (process.env.TEMPORAL_ADDRESS) {
    config.temporal.address = process.env.TEMPORAL_ADDRESS;
    // The file's HTTP address belongs to the file's server, not necessarily to this one.
    delete config.temporal.httpAddress;
  }
  if (process.env.TEMPORAL_HTTP_ADDRESS) config.temporal.httpAddress = process.env.TEMPORAL_HTTP_ADDRESS;
  if (process.env.TEMPORAL_NAMESPACE) config.temporal.namespace = process.env.TEMPORAL_NAMESPACE;
  if (process.env.DAY2_TASK_QUEUE) config.temporal.taskQueue = process.env.DAY2_TASK_QUEUE;
  for (const deployment of Object.values(config.deployments)) resolvePaths(deployment, baseDir);
  resolveTemporalPaths(config, baseDir);
  return config;
}

/** `deployments.ledger.health.ready: expected a URL` — one line per problem. An unknown
 * key is named with its path, and with the key it was likely meant to be when `schema` (the
 * one that refused it) knows one within two edits: `upgrade.autoRolback: unknown key — did
 * you mean autoRollback?`. */
export function formatIssues(error: z.ZodError, schema?: z.ZodType): string {
  const at = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(top level)';
  return error.issues
    .flatMap((issue) => {
      if (issue.code !== 'unrecognized_keys') return [`${at(issue.path)}: ${issue.message}`];
      const known = schema ? knownKeysAt(schema, issue.path) : [];
      return issue.keys.map((key) => {
        const meant = closeSpelling(key, known);
        return `${at([...issue.path, key])}: unknown key${meant ? ` — did you mean ${meant}?` : ''}`;
      });
    })
    .join('; ');
}

function resolvePaths(d: DeploymentConfig, baseDir: string): void {
  const abs = (p: string) => path.resolve(baseDir, p);
  d.envFile = abs(d.envFile);
  if (d.versionFile) d.versionFile = abs(d.versionFile);
  if (d.envExample) d.envExample = abs(d.envExample);
  d.backup.dir = abs(d.backup.dir);
  d.runtime.cwd = abs(d.runtime.cwd ?? '.');
  if (d.runtime.kind === 'commands') {
    const { logFiles } = d.runtime;
    for (const service of Object.keys(logFiles)) logFiles[service] = abs(logFiles[service]!);
  }
  if (d.supportBundle.dir) d.supportBundle.dir = abs(d.supportBundle.dir);
}

/** Key and certificate files, like every path in day2.yaml, are relative to the file. */
function resolveTemporalPaths(config: Day2Config, baseDir: string): void {
  const { tls, codec } = config.temporal;
  if (tls) {
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) if (tls[key]) tls[key] = path.resolve(baseDir, tls[key]);
  }
  if (codec?.keyFile) codec.keyFile = path.resolve(baseDir, codec.keyFile);
}

export function deploymentOf(config: Day2Config, name: string): DeploymentConfig {
  const d = config.deployments[name];
  if (!d) {
    const known = Object.keys(config.deployments).join(', ') || '(none)';
    throw new BadInputError(`unknown deployment '${name}'`, `known deployments: ${known}`);
  }
  return d;
}

/** The deployment to act on when the user named none: the only one configured. */
export function defaultDeployment(config: Day2Config, explicit?: string): string {
  if (explicit) return deploymentOf(config, explicit) && explicit;
  const names = Object.keys(config.deployments);
  if (names.length === 1) return names[0]!;
  throw new BadInputError('more than one deployment is configured', `name one with --deployment (${names.join(', ')})`);
}

/** Process settings that are not part of day2.yaml (all env reads live here). */
export function processSettings() {
  return {
    logLevel: process.env.DAY2_LOG_LEVEL ?? 'info',
    /** A pre-built workflow bundle (tests and CI build it once for many workers). */
    workflowBundle: process.env.DAY2_WORKFLOW_BUNDLE,
    /** host:port for the worker's Prometheus metrics, off when unset. */
    metricsAddress: process.env.DAY2_METRICS_ADDRESS,
    /** Who approvals are attributed to when --by is not given. */
    user: process.env.DAY2_USER ?? process.env.USER ?? 'unknown',
    /** TESTS ONLY (the crash matrix): `<activity>@start|end` (comma-separated), or `@<file>`
     * holding such lines, makes the worker sleep inside that activity so a test can kill it
     * there (src/activities/interceptors/test-pause.ts). Unset in production: no pause point exists. */
    testPause: process.env.DAY2_TEST_PAUSE || undefined,
    testPauseSeconds: Number(process.env.DAY2_TEST_PAUSE_SECONDS || 120),
  };
}

/** The payload codec's keyring text, from the env var `temporal.codec.keyEnv` names. */
export function codecKeyFromEnv(config: Day2Config): string | undefined {
  const name = config.temporal.codec?.keyEnv;
  return name ? process.env[name] : undefined;
}

/** The Temporal API key, read from the env var the config names (never from the file). */
export function temporalApiKey(config: Day2Config): string | undefined {
  const name = config.temporal.apiKeyEnv;
  return name ? process.env[name] : undefined;
}
