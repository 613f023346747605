// The `compose` runtime: the runbooks' docker compose sequence, as argv (no shell).
// Secrets never go on argv: the registry password goes to `docker login` on stdin, and the
// migration URL is passed as `-e DATABASE_URL` (name only) with its value in the child env.
import type { RuntimeConfig } from '../../domain/config-schema';
import type { Logger } from '../../logger';
import { readEnvFile } from '../../envfile';
import {
  CommandFailedError,
  outputTail,
  ReleaseUnavailableError,
  runOrThrow,
  type CommandRunner,
  type RunOptions,
  type RuntimeAdapter,
} from './adapter';
import { ConfigError } from '../../config';

export type ComposeRuntime = Extract<RuntimeConfig, { kind: 'compose' }>;

export interface ComposeOptions {
  /** Env-file variable the compose file interpolates the image tag from (e.g. APP_VERSION). */
  imageVar?: string;
  /** The deployment's env file: compose interpolates from it, day2 reads credentials from it. */
  envFile: string;
}

/** `docker compose --env-file E -f F… [-p P]`: every compose call starts with this. */
export function composeBase(cfg: ComposeRuntime, envFile: string): string[] {
  const argv = ['docker', 'compose', '--env-file', envFile];
  for (const file of cfg.files) argv.push('-f', file);
  if (cfg.project) argv.push('-p', cfg.project);
  return argv;
}

export function composeAdapter(cfg: ComposeRuntime, run: CommandRunner, logger: Logger, opts: ComposeOptions): RuntimeAdapter {
  const base = composeBase(cfg, opts.envFile);
  const compose = (...args: string[]) => [...base, ...args];
  // Shell env beats the env file in compose interpolation, so this selects the image of
  // `version` before the workflow has written it to the env file.
  const withVersion = (version: string, extra: Record<string, string> = {}): RunOptions => ({
    cwd: cfg.cwd,
    env: opts.imageVar ? { [opts.imageVar]: version, ...extra } : extra,
  });
  const plain: RunOptions = { cwd: cfg.cwd };
  const appServices = [...new Set([cfg.apiService, cfg.workerService])];

  async function login(): Promise<void> {
    const registry = cfg.registry;
    if (!registry) return;
    const env = await readEnvFile(opts.envFile);
    const username = env.get(registry.usernameVar);
    const password = env.get(registry.passwordVar);
    if (!username || !password) {
      throw new ReleaseUnavailableError(
        `cannot log in to ${registry.host}: ${registry.usernameVar} and ${registry.passwordVar} must be set in ${opts.envFile}`,
      );
    }
    await runOrThrow(run, ['docker', 'login', registry.host, '-u', username, '--password-stdin'], { ...plain, input: password });
  }

  return {
    async stop(scope) {
      if (scope === 'worker') {
        await runOrThrow(run, compose('stop', cfg.workerService), plain);
      } else if (cfg.databaseService) {
        // A restore needs the bundled database running: stop only the app services.
        await runOrThrow(run, compose('stop', ...appServices), plain);
      } else {
        await runOrThrow(run, compose('stop'), plain);
      }
    },

    async start() {
      await runOrThrow(run, compose('up', '-d', '--wait', '--wait-timeout', String(cfg.waitTimeoutSeconds)), plain);
    },

    async pull(version) {
      if (!opts.imageVar) logger.warn('no image variable configured: pulling whatever the env file names');
      try {
        await login();
        await runOrThrow(run, compose('pull'), withVersion(version), `pull of release ${version}`);
      } catch (err) {
        if (err instanceof CommandFailedError) throw new ReleaseUnavailableError(err.message);
        throw err;
      }
    },

    async isPresent(version) {
      const listed = await run(compose('config', '--images'), withVersion(version));
      if (listed.exitCode !== 0) return false;
      const images = listed.stdout
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      if (images.length === 0) return false;
      const inspected = await run(['docker', 'image', 'inspect', ...images], plain);
      return inspected.exitCode === 0;
    },

    async migrate(version, migrationUrl) {
      const env: Record<string, string> = migrationUrl ? { DATABASE_URL: migrationUrl } : {};
      const passUrl = migrationUrl ? ['-e', 'DATABASE_URL'] : [];
      const argv = compose('run', '--rm', ...passUrl, cfg.migrateService, ...cfg.migrateCommand);
      await runOrThrow(run, argv, withVersion(version, env), `migrations for ${version}`);
    },

    async rehashKeys() {
      if (!cfg.rehashCommand?.length) {
        throw new ConfigError('runtime.rehashCommand is not configured — set the command that re-hashes API keys in day2.yaml');
      }
      await runOrThrow(run, compose('run', '--rm', cfg.apiService, ...cfg.rehashCommand), plain, 'API key re-hash');
    },

    async currentVersion() {
      if (opts.imageVar) {
        const fromEnv = (await readEnvFile(opts.envFile)).get(opts.imageVar);
        if (fromEnv) return fromEnv;
      }
      return runningImageTag();
    },

    async serviceState() {
      return (await runOrThrow(run, compose('ps', '--all'), plain)).stdout;
    },

    async serviceLogs(lines) {
      const logs: Record<string, string> = {};
      const services = [...appServices, ...(cfg.databaseService ? [cfg.databaseService] : [])];
      for (const service of services) {
        const result = await run(compose('logs', '--no-color', '--timestamps', '--tail', String(lines), service), plain);
        logs[service] =
          result.exitCode === 0 ? result.stdout : `(docker compose logs failed, exit ${result.exitCode}: ${outputTail(result)})`;
      }
      return logs;
    },
  };

  /** The tag of the api container's image (`docker compose images --format json`). */
  async function runningImageTag(): Promise<string | null> {
    const result = await run(compose('images', '--format', 'json', cfg.apiService), plain);
    if (result.exitCode !== 0) return null;
    try {
      const parsed: unknown = JSON.parse(result.stdout || '[]');
      const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ Tag?: unknown }>;
      const tag = rows.map((r) => r?.Tag).find((t): t is string => typeof t === 'string' && t !== '' && t !== '<none>');
      return tag ?? null;
    } catch {
      logger.warn('could not parse `docker compose images` output');
      return null;
    }
  }
}
