// `day2 cancel` must leave a deployment in a state someone can name. An operation runs its
// steps inside `endCleanlyOnCancel`: a cancellation is recorded as the outcome (what was
// and was not changed) before the workflow ends CANCELLED. Steps that must never be left
// half-done (services stopped → database swapped → services started) run `uninterruptible`:
// a cancellation that arrives meanwhile takes effect after them.
import { CancellationScope, isCancellation, type CancelledFailure } from '@temporalio/workflow';
import type { ProgressTracker } from './progress';

/** What the deployment looks like if cancelled now ("nothing was changed"): each operation
 * keeps one, updated by its steps as they change things, and its outcome says it. */
export interface WhatCancellationLeaves {
  now: string;
}

export const cancellationLeaves = (now: string): WhatCancellationLeaves => ({ now });

export async function endCleanlyOnCancel<T>(
  progress: ProgressTracker,
  leaves: WhatCancellationLeaves,
  steps: () => Promise<T>,
): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    // An operation that already wrote its own outcome (e.g. after undoing itself) keeps it.
    if (isCancellation(err) && progress.snapshot.outcome === undefined) {
      const at = progress.snapshot.steps.find((s) => s.status === 'running' || s.status === 'waiting' || s.status === 'failed');
      progress.finish(`cancelled${at ? ` during '${at.name}'` : ''}: ${leaves.now}`);
    }
    throw err;
  }
}

/** Runs `fn` to its end even if the workflow is cancelled meanwhile (also for clean-ups). */
export function uninterruptible<T>(fn: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(fn);
}

export interface CancellationWatch {
  /** The cancellation, once one was requested (throw it to end the workflow CANCELLED). */
  readonly requested: CancelledFailure | undefined;
}

/** Notes a cancellation of the current scope without acting on it: for work that runs
 * `uninterruptible` and decides itself, at its own step boundaries, how to wind down. */
export function watchCancellation(): CancellationWatch {
  const watch: { requested: CancelledFailure | undefined } = { requested: undefined };
  CancellationScope.current().cancelRequested.catch((err: CancelledFailure) => {
    watch.requested = err;
  });
  return watch;
}
