// Picks the adapter for a deployment's runtime. The runner is injectable so tests can
// record the commands instead of running them. A command that fails keeps its whole output
// in the deployment's `<backup.dir>/logs/`, and its error names the file.
import type { DeploymentConfig } from '../../domain/config-schema';
import type { Logger } from '../../logger';
import { failedOutputKeeper } from '../shared/failure-log';
import { execaRunner, keepingFailedOutput, type CommandRunner, type RuntimeAdapter } from './adapter';
import { commandsAdapter } from './commands';
import { composeAdapter } from './compose';

export type { CommandRunner, RuntimeAdapter } from './adapter';
export { CommandFailedError, ReleaseUnavailableError, execaRunner } from './adapter';

export function runtimeFor(deployment: DeploymentConfig, logger: Logger, runner: CommandRunner = execaRunner(logger)): RuntimeAdapter {
  const runtime = deployment.runtime;
  const run = keepingFailedOutput(runner, failedOutputKeeper(deployment));
  if (runtime.kind === 'commands')
    return commandsAdapter(runtime, run, logger, {
      envFile: deployment.envFile,
      versionVar: deployment.versionVar,
      versionFile: deployment.versionFile,
    });
  return composeAdapter(runtime, run, logger, { imageVar: deployment.versionVar, envFile: deployment.envFile });
}
