// dr-test.sh as a read-only workflow: choose a backup (the newest, or the one named),
// restore it into a scratch cluster and check it there. Production is never touched, so it
// runs under its own id beside any operation; each check is a line of the Web UI checklist.
import { workflowInfo } from '@temporalio/workflow';
import { failure } from '../domain/failures';
import type { DrillInput, DrillResult } from '../domain/types';
import { long, quick } from './activity-proxies';
import { reportOutcome } from './notify';
import { cancellationLeaves, endCleanlyOnCancel } from './cancellation';
import { beginOperation } from './operation';
import { FETCH_OFFSITE_STEP, fetchOffsiteStep } from './offsite';
import type { ProgressTracker } from './progress';

const CHOOSE = 'Choose backup';
const RESTORE = 'Restore into a scratch cluster and check it';

export async function drill(input: DrillInput): Promise<DrillResult> {
  const { deployment } = input;
  const { progress } = beginOperation('drill', deployment, input.remote ? [FETCH_OFFSITE_STEP, RESTORE] : [CHOOSE, RESTORE]);
  return reportOutcome(
    'drill',
    deployment,
    // A drill never touches the deployment; its scratch cluster goes with the activity.
    () => endCleanlyOnCancel(progress, cancellationLeaves('the deployment is untouched'), () => drillSteps(input, progress)),
    (r) => ({ ok: r.ok, detail: progress.snapshot.outcome ?? '' }),
  );
}

async function drillSteps(input: DrillInput, progress: ProgressTracker): Promise<DrillResult> {
  const { deployment } = input;
  // An off-site copy is downloaded and verified into the backup directory, then drilled as a local one.
  const file = input.remote
    ? await fetchOffsiteStep(progress, deployment, input.remote)
    : await progress.step(
        CHOOSE,
        () => chooseBackup(input),
        (f) => (input.file ? `${f} (given)` : `${f} (the newest)`),
      );
  const result = await progress.step(RESTORE, () =>
    long.drillBackup.executeWithOptions({ summary: `Restore ${file} into a scratch PostgreSQL cluster and check it` }, [
      { deployment, file, runId: workflowInfo().runId },
    ]),
  );
  const failed = progress.showChecks(RESTORE, result.checks);
  progress.finish(
    failed.length
      ? `${file} failed the drill: ${failed.map((c) => c.name).join(', ')}`
      : `${file} restores: all ${result.checks.length} checks passed`,
  );
  return result;
}

async function chooseBackup(input: DrillInput): Promise<string> {
  if (input.file) return input.file;
  const [newest] = await quick.listBackups.executeWithOptions({ summary: `Find ${input.deployment}'s newest backup` }, [
    { deployment: input.deployment },
  ]);
  if (!newest) {
    throw failure(
      'BadInputError',
      `${input.deployment} has no backups to drill: take one with day2 backup --deployment ${input.deployment}`,
    );
  }
  return newest.file;
}
