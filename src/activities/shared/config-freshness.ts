// A worker runs for weeks; operators edit day2.yaml meanwhile. Before an activity looks
// its deployment up (deployment-resolver.ts) the worker looks at the file (a stat, no
// read, when nothing changed) and, if it changed, reloads it. What a
// running worker cannot take on without a restart (its Temporal connection, namespace and
// task queue) is refused instead, as is a file that no longer validates: the activity
// fails (retryably) saying what to do, and goes on once the file is fixed or the worker
// restarted. Reloading mutates the one config object the resolver reads.
import { statSync } from 'node:fs';
import { failure } from '../../domain/failures';
import { loadConfig, type Day2Config } from '../../config';
import type { Logger } from '../../logger';

export interface ConfigFreshness {
  /** Reloads `config` in place if its file changed since it was read; throws when it cannot. */
  ensureFresh(): void;
}

const stamp = (file: string): string => {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : 'missing';
};

export function configFreshness(config: Day2Config, file: string, logger: Logger): ConfigFreshness {
  let seen = stamp(file);
  const temporalOf = (c: Day2Config) => JSON.stringify(c.temporal);
  return {
    ensureFresh() {
      const now = stamp(file);
      if (now === seen) return;
      let fresh: Day2Config;
      try {
        fresh = loadConfig(file);
      } catch (err) {
        throw failure(
          'StaleConfig',
          `${file} changed since this worker read it and can no longer be used: ${(err as Error).message}. ` +
            'Fix the file (this step retries and goes on), or put the previous version back.',
        );
      }
      if (temporalOf(fresh) !== temporalOf(config)) {
        throw failure(
          'StaleConfig',
          `${file}: the temporal section changed since this worker started; a running worker cannot switch its ` +
            'server, namespace or task queue. Restart the worker (day2 worker) to use the new file; this step retries meanwhile.',
        );
      }
      const target = config as Record<string, unknown>;
      for (const key of Object.keys(target)) if (key !== 'temporal') delete target[key];
      Object.assign(config, { ...fresh, temporal: config.temporal });
      seen = now;
      logger.info({ file, deployments: Object.keys(fresh.deployments) }, 'day2.yaml changed: reloaded');
    },
  };
}
