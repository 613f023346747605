// Reading and raising failures inside workflows. A plain Error thrown by workflow code
// would fail the workflow *task* (retried forever); refusals must be ApplicationFailures
// whose type the CLI maps to an exit code.
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';
import { failure } from '../domain/failures';

export { deepestMessage } from '../domain/failure-chain';

/** Bad input found by the workflow itself: nothing was touched (CLI exit code 2). */
export function refuse(message: string): never {
  throw failure('BadInputError', message);
}

/** The activity whose failure ended a child workflow (child → activity → cause). */
export function failedActivityOfChild(err: unknown): string | undefined {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
  return cause instanceof ActivityFailure ? cause.activityType : undefined;
}

/** "42 s", "12 min", "3 h 5 min", "2 d 4 h": for a question a person reads at a gate. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
