// Activities that drive a deployment's runtime (stop, start, pull, migrate, re-hash, detect
// the version). Each is idempotent: stopping a stopped service, pulling a pulled image,
// `up -d --wait` on running services and re-running applied migrations are all no-ops.
import { failure } from '../../domain/failures';
import { BadInputError } from '../../domain/errors';
import type { ActivityDeps } from '../shared/deps';
import { readEnvFile } from '../../envfile';
import { ReleaseUnavailableError, runtimeFor, type CommandRunner } from './select';
import { writtenRelease } from './written-release';

export interface DeploymentInput {
  deployment: string;
}

export interface PullReleaseInput extends DeploymentInput {
  version: string;
  /** Rollback: a cached copy of the release is good enough when the pull fails. */
  allowPresentFallback?: boolean;
}

export interface PullReleaseResult {
  /** The pull step succeeded (a no-op for a commands runtime without `pull`). */
  pulled: boolean;
  /** The pull failed and the release already present locally is used instead. */
  usedPresent: boolean;
  warning?: string;
}

// Releases reach shell commands and image tags: refuse anything that is not tag-shaped.
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

function assertRelease(version: string): void {
  if (!RELEASE.test(version)) throw new BadInputError(`'${version}' is not a release version`, 'expected e.g. 1.4.2');
}

/** `run` is for tests; the worker uses the execa runner. */
export function serviceActivities(deps: ActivityDeps, run?: CommandRunner) {
  const resolve = (name: string) => {
    const deployment = deps.resolve(name);
    const logger = deps.logger.child({ deployment: name });
    return { deployment, logger, runtime: runtimeFor(deployment, logger, run) };
  };

  return {
    async stopServices({ deployment, scope }: DeploymentInput & { scope: 'all' | 'worker' }): Promise<void> {
      await resolve(deployment).runtime.stop(scope);
    },

    async startServices({ deployment }: DeploymentInput): Promise<void> {
      await resolve(deployment).runtime.start();
    },

    async pullRelease({ deployment, version, allowPresentFallback }: PullReleaseInput): Promise<PullReleaseResult> {
      assertRelease(version);
      const { runtime, logger } = resolve(deployment);
      try {
        await runtime.pull(version);
        return { pulled: true, usedPresent: false };
      } catch (err) {
        if (!(err instanceof ReleaseUnavailableError)) throw err;
        if (allowPresentFallback && (await runtime.isPresent(version))) {
          const warning = `pull of ${version} failed (${err.message}); using the copy already present`;
          logger.warn(warning);
          return { pulled: false, usedPresent: true, warning };
        }
        // Retrying cannot conjure a release the registry refuses: fail the step now.
        throw failure('ReleaseUnavailable', err.message);
      }
    },

    async runMigrations({ deployment, version }: DeploymentInput & { version: string }): Promise<void> {
      assertRelease(version);
      const { deployment: d, runtime } = resolve(deployment);
      const env = await readEnvFile(d.envFile);
      // Unset or empty: the migration runs with the service's own DATABASE_URL.
      const migrationUrl = env.get(d.migrationUrlVar) || undefined;
      await runtime.migrate(version, migrationUrl);
    },

    async rehashApiKeys({ deployment }: DeploymentInput): Promise<void> {
      await resolve(deployment).runtime.rehashKeys();
    },

    /** Env file `versionVar` → version file → the runtime's own answer → null. */
    async detectRunningVersion({ deployment }: DeploymentInput): Promise<string | null> {
      const { deployment: d, runtime, logger } = resolve(deployment);
      const written = await writtenRelease(d);
      if (written) return found(logger, written.version, written.source);
      const fromRuntime = await runtime.currentVersion();
      if (fromRuntime) return found(logger, fromRuntime, 'runtime');
      logger.warn('running version unknown');
      return null;
    },
  };
}

function found(logger: ActivityDeps['logger'], version: string, source: string): string {
  logger.info({ version, source }, 'running version detected');
  return version;
}
