/**
 * A failure the operator can act on: its message is printed as-is (one line, no stack) by
 * the CLI and the service entry points. Anything else is a bug and is reported as such.
 */
export class LedgerError extends Error {
  override name = 'LedgerError';
}

/** The message of any thrown value, without a stack trace. */
export function messageOf(error: unknown): string {
  // Connecting to a host with several addresses fails with an AggregateError whose own
  // message is empty: the useful text is in its parts.
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map(messageOf).join('; ') || 'connection failed';
  }
  if (error instanceof Error) return error.message || String((error as NodeJS.ErrnoException).code ?? error.name);
  return String(error);
}
