// What every activity factory receives: the validated config and a logger.
import type { Day2Config } from '../../config';
import type { Logger } from '../../logger';

export interface ActivityDeps {
  config: Day2Config;
  logger: Logger;
  /** The file `config` was read from: a worker reloads it when it changes (tests that
   * build a config in memory leave it out). */
  configFile?: string;
}
