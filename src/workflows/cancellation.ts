// `day2 cancel` must leave a deployment in a state someone can name. An operation runs its
// steps inside `endCleanlyOnCancel`: a cancellation is recorded as the outcome (what was
// and was not changed) before the workflow ends CANCELLED. Steps that must never be left
// half-done (services stopped → database swapped → services started) run `uninterruptible`:
// a cancellation that arrives meanwhile takes effect after them.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ProgressTracker } from './progress';

export async function endCleanlyOnCancel<T>(
  progress: ProgressTracker,
  steps: () => Promise<T>,
  /** What the deployment looks like if cancelled now, e.g. "nothing was changed". */
  stateNow: () => string = () => 'see the steps above',
): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    if (isCancellation(err)) {
      const at = progress.snapshot.steps.find((s) => s.status === 'running' || s.status === 'waiting' || s.status === 'failed');
      progress.finish(`cancelled${at ? ` during '${at.name}'` : ''}: ${stateNow()}`);
    }
    throw err;
  }
}

/** Runs `fn` to its end even if the workflow is cancelled meanwhile (also for clean-ups). */
export function uninterruptible<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}
