// Picks the adapter for a deployment's runtime. The runner is injectable so tests can
// record the commands instead of running them.
import type { DeploymentConfig } from '../../domain/config-schema';
import type { Logger } from '../../logger';
import { execaRunner, type CommandRunner, type RuntimeAdapter } from './adapter';
import { commandsAdapter } from './commands';
import { composeAdapter } from './compose';

export type { CommandRunner, RuntimeAdapter } from './adapter';
export { CommandFailedError, ReleaseUnavailableError, execaRunner } from './adapter';

export function runtimeFor(deployment: DeploymentConfig, logger: Logger, run: CommandRunner = execaRunner(logger)): RuntimeAdapter {
  const runtime = deployment.runtime;
  if (runtime.kind === 'commands') return commandsAdapter(runtime, run, logger, deployment.envFile);
  return composeAdapter(runtime, run, logger, { imageVar: deployment.versionVar, envFile: deployment.envFile });
}
