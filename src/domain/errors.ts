// Errors an operator sees. Each says what was wrong and what to do. Workflows turn them
// into non-retryable ApplicationFailures with the same type so the CLI can map them to
// exit codes.

/** CLI exit codes (documented in the README). */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed (or was rolled back). */
  failed: 1,
  /** Bad input: nothing was touched. */
  badInput: 2,
  /** Refused: another operation holds the deployment, or the gate isn't waiting. */
  refused: 3,
  /** Paused at a gate (with --detach or when following stops at a gate). */
  waiting: 4,
  /** Rejected at a gate; nothing destructive was done after it. */
  rejected: 5,
  /** The Temporal server could not be reached: nothing was started or asked. */
  temporalUnreachable: 6,
} as const;

/** No Temporal server answers at the configured address (CLI exit code 6). */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachable';
}

/** Input that can never succeed: retrying is pointless, nothing was touched. */
export class BadInputError extends Error {
  override readonly name = 'BadInput';
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message} — ${hint}` : message);
  }
}

/** Failure types retrying cannot help. Temporal names a failure after the thrown error's
 * class (`BadInputError`), or the `type` an ApplicationFailure was created with. */
export const NON_RETRYABLE = ['BadInputError', 'BackupInvalidError', 'ConfigError', 'ReleaseUnavailable', 'NotReady', 'DatabaseLoginError'] as const;

/** Failure types that mean the operator's input was wrong (CLI exit code 2). */
export const BAD_INPUT_TYPES: readonly string[] = [
  'BadInputError',
  'BackupInvalidError',
  'ConfigError',
  'ReleaseUnavailable',
  'DatabaseUnreachableError',
  'DatabaseLoginError',
];

export class BackupInvalidError extends Error {
  override readonly name = 'BackupInvalid';
}

/** The database did not answer (refused, timed out, no route, name not resolved, server
 * starting up). Thrown only by the reachability probe that operations run before touching
 * anything, so it means "nothing was changed" (exit 2). Retryable: the activity's retry
 * policy (4 attempts, ~7 s) rides out a restart; a database gone for longer is reported. */
export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachable';
}

/** The database answered and refused us: wrong password, unknown role, no such database, no
 * CONNECT privilege. Retrying cannot help (non-retryable); the env file needs fixing (exit 2). */
export class DatabaseLoginError extends Error {
  override readonly name = 'DatabaseLogin';
}
