// Activity code also runs outside an activity (unit tests, benches, a check the approver
// runs): there is no Temporal context then, and what would use one (heartbeats,
// cancellation, the attempt, the workflow run) does without.
import { Context } from '@temporalio/activity';

/** The running activity's context, or undefined outside an activity. */
export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Aborts with the activity's cancellation (undefined outside an activity). */
export function activityCancellationSignal(): AbortSignal | undefined {
  return currentActivity()?.cancellationSignal;
}
