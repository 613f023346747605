// `day2 drill` on a pgBackRest deployment: restore to a point (default: all archived WAL)
// into a scratch data directory, check it there, remove it. Production is not changed
// (its current WAL segment is archived first, so the drill covers writes until now).
import { workflowInfo } from '@temporalio/workflow';
import type { PgbackrestDrillInput } from '../domain/pgbackrest';
import { describeTarget } from '../domain/restore-target';
import type { DrillResult } from '../domain/types';
import { long } from './activity-proxies';
import { reportOutcome } from './notify';
import { beginOperation } from './operation';

const RESTORE = 'Restore to a point into a scratch cluster and check it';

export async function pgbackrestDrill(input: PgbackrestDrillInput): Promise<DrillResult> {
  const { deployment } = input;
  const { progress } = beginOperation('drill', deployment, [RESTORE]);
  return reportOutcome(
    'drill',
    deployment,
    async () => {
      const result = await progress.step(RESTORE, () =>
        long.drillPitr.executeWithOptions(
          { summary: `pgbackrest restore to ${describeTarget(input.target)} into a scratch directory; check it` },
          [{ deployment, target: input.target, runId: workflowInfo().runId }],
        ),
      );
      const failed = progress.showChecks(RESTORE, result.checks);
      progress.finish(
        failed.length
          ? `${result.file} failed the drill: ${failed.map((c) => c.name).join(', ')}`
          : `${result.file} restores: all ${result.checks.length} checks passed`,
      );
      return result;
    },
    (r) => ({ ok: r.ok, detail: progress.snapshot.outcome ?? '' }),
  );
}
