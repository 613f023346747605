// The `commands` runtime: every lifecycle action is a shell command the operator
// configured (systemd units, a PaaS CLI, a script). `{version}` is substituted, quoted.
// Each command runs in `runtime.cwd` with the deployment's env file in its environment,
// read afresh for every command (a rotation's new secret is seen by the next restart), as
// the runbooks' `set -a; . ./.env` did; day2's own variables (a migration's owner URL) win.
import { ConfigError } from '../../config';
import { readEnvFile } from '../../envfile';
import { writtenRelease, type ReleaseSource } from './written-release';
import type { RuntimeConfig } from '../../domain/config-schema';
import type { Logger } from '../../logger';
import { tailLines } from '../shared/tail-lines';
import {
  CommandFailedError,
  ReleaseUnavailableError,
  runOrThrow,
  shellQuote,
  type CommandRunner,
  type RunOptions,
  type RuntimeAdapter,
} from './adapter';

export type CommandsRuntime = Extract<RuntimeConfig, { kind: 'commands' }>;

/** `{version}` → the version, shell-quoted when it holds anything but safe characters
 * (callers validate semver first; this is the second line of defence). */
export function substituteVersion(command: string, version: string): string {
  return command.replaceAll('{version}', shellQuote(version));
}

export function commandsAdapter(cfg: CommandsRuntime, run: CommandRunner, logger: Logger, release: ReleaseSource): RuntimeAdapter {
  const { envFile } = release;
  const opts = async (env?: Record<string, string>): Promise<RunOptions> => ({
    cwd: cfg.cwd,
    env: { ...Object.fromEntries(await readEnvFile(envFile)), ...env },
  });
  /** `start` at the release the env file (else the version file) names: an upgrade or a
   * rollback has written it there before it starts the service. */
  const startCommand = async (): Promise<string> => {
    if (!cfg.start.includes('{version}')) return cfg.start;
    const version = (await writtenRelease(release))?.version;
    if (!version)
      throw new ConfigError(
        `runtime.start uses {version}, but neither ${release.versionVar} in ${envFile}${release.versionFile ? ` nor ${release.versionFile}` : ''} names the running release — set it there (day2 upgrade writes it)`,
      );
    return substituteVersion(cfg.start, version);
  };
  const required = (key: 'migrate' | 'rehashKeys'): string => {
    const command = cfg[key];
    if (!command) {
      throw new ConfigError(`runtime.${key} is not configured — add a '${key}' command to the deployment's runtime in day2.yaml`);
    }
    return command;
  };

  return {
    async stop(scope) {
      // Without a dedicated stopWorker, stopping everything is the safe way to make sure
      // no job runs during a migration.
      const command = scope === 'worker' ? (cfg.stopWorker ?? cfg.stop) : cfg.stop;
      await runOrThrow(run, command, await opts());
    },

    async start() {
      await runOrThrow(run, await startCommand(), await opts());
    },

    async pull(version) {
      if (!cfg.pull) {
        logger.info('runtime has no pull command: nothing to pull');
        return;
      }
      try {
        await runOrThrow(run, substituteVersion(cfg.pull, version), await opts(), `pull of release ${version}`);
      } catch (err) {
        if (err instanceof CommandFailedError) throw new ReleaseUnavailableError(err.message);
        throw err;
      }
    },

    async isPresent(version) {
      // No way to ask: assume present, as a runtime without pull has nothing to fetch.
      if (!cfg.present) return true;
      const result = await run(substituteVersion(cfg.present, version), await opts());
      return result.exitCode === 0;
    },

    async migrate(version, migrationUrl) {
      const command = substituteVersion(required('migrate'), version);
      // The owner-privileged URL reaches the command through its environment only.
      await runOrThrow(run, command, await opts(migrationUrl ? { DATABASE_URL: migrationUrl } : undefined), `migrations for ${version}`);
    },

    async rehashKeys() {
      await runOrThrow(run, required('rehashKeys'), await opts(), 'API key re-hash');
    },

    async currentVersion() {
      if (!cfg.version) return null;
      const result = await run(cfg.version, await opts());
      if (result.exitCode !== 0) {
        logger.warn({ exitCode: result.exitCode }, 'version command failed; running version unknown');
        return null;
      }
      const lines = result.stdout.trim().split(/\r?\n/);
      return lines[lines.length - 1]?.trim() || null;
    },

    async serviceState() {
      if (!cfg.status) return null;
      return (await runOrThrow(run, cfg.status, await opts(), 'status command')).stdout;
    },

    async serviceLogs(lines) {
      const logs: Record<string, string> = {};
      for (const [service, file] of Object.entries(cfg.logFiles)) {
        logs[service] = await tailLines(file, lines).then(
          (tail) => tail.join('\n'),
          (err: NodeJS.ErrnoException) => `(cannot read ${file}: ${err.code ?? err.message})`,
        );
      }
      return logs;
    },
  };
}
