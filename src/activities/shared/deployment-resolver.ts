// Activities name a deployment in their input; this is the one place that turns the name
// into its config. With the file the config came from, it first reloads the file if it
// changed (config-freshness.ts), so no activity acts on a config the operator has already
// replaced. An unknown name is refused as bad input, naming the known ones.
import { deploymentOf, type Day2Config, type DeploymentConfig } from '../../config';
import type { ConfigFreshness } from './config-freshness';

export type DeploymentResolver = (name: string) => DeploymentConfig;

export function deploymentResolver(config: Day2Config, freshness?: ConfigFreshness): DeploymentResolver {
  return (name) => {
    freshness?.ensureFresh();
    return deploymentOf(config, name);
  };
}
