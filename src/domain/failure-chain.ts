// Reading a Temporal failure's cause chain (workflow → child → activity → application
// failure). Pure: the workflows and the CLI both use it.
import type { FailureType } from './failures';

/** The most specific message of a failure chain ("Activity task failed" says nothing). */
export function deepestMessage(err: unknown): string {
  let e = err as { cause?: unknown; message?: string } | undefined;
  let message = e?.message ?? String(err);
  while (e) {
    if (e.message) message = e.message;
    e = e.cause as typeof e;
  }
  return message;
}

/** The ApplicationFailure type at the bottom of a failure's cause chain. */
export function failureType(err: unknown): string | undefined {
  let e = err as { cause?: unknown; type?: string } | undefined;
  let type: string | undefined;
  while (e) {
    if (typeof e.type === 'string') type = e.type;
    e = e.cause as typeof e;
  }
  return type;
}

/** Whether a failure of `type` is anywhere in the chain (a wrapper above the deepest one). */
export function hasFailureType(err: unknown, type: FailureType): boolean {
  for (let e = err as { cause?: unknown; type?: string } | undefined; e; e = e.cause as typeof e) {
    if (e.type === type) return true;
  }
  return false;
}
