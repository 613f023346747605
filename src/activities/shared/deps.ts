// What every activity factory receives: a logger and the one way to a deployment's config.
import type { Day2Config } from '../../config';
import type { Logger } from '../../logger';
import { configFreshness } from './config-freshness';
import { deploymentResolver, type DeploymentResolver } from './deployment-resolver';

export interface ActivityDeps {
  logger: Logger;
  /** The deployment an activity's input names, as the config in force has it. */
  resolve: DeploymentResolver;
}

export interface ActivitySource {
  config: Day2Config;
  logger: Logger;
  /** The file `config` was read from: a worker reloads it when it changes (tests that
   * build a config in memory leave it out). */
  configFile?: string;
}

export function activityDeps({ config, logger, configFile }: ActivitySource): ActivityDeps {
  const freshness = configFile ? configFreshness(config, configFile, logger) : undefined;
  return { logger, resolve: deploymentResolver(config, freshness) };
}
