// The DR drill activity (dr-test.sh): a backup restored into a scratch cluster and checked.
import type { DrillResult } from '../../domain/types';
import type { ActivityDeps } from '../shared/deps';
import { drillBackup, type DrillRun } from './dr-drill';

export function drillActivities({ resolve, logger }: ActivityDeps) {
  return {
    /** Verify, restore into a scratch cluster, check, remove the cluster. Read-only for the
     * deployment; a retry starts from a clean scratch directory. */
    async drillBackup(input: DrillRun): Promise<DrillResult> {
      const started = Date.now();
      const result = await drillBackup(resolve(input.deployment), input);
      const failed = result.checks.filter((c) => !c.ok).map((c) => c.name);
      logger.info({ deployment: input.deployment, file: input.file, ok: result.ok, failed, ms: Date.now() - started }, 'drill done');
      return result;
    },
  };
}
