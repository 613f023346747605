// Errors an operator sees. Each says what was wrong and what to do. Thrown by an activity,
// Temporal records it under its class name, a type listed in the failure catalogue
// (failures.ts), which says whether it is retried and the CLI exit code it maps to.

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
  /** Ctrl-C while following (128 + SIGINT): the operation goes on on the worker. */
  interrupted: 130,
} as const;

/** No Temporal server answers at the configured address (CLI exit code 6). */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachable';
}

/** Input that can never succeed: retrying is pointless, nothing was touched. */
export class BadInputError extends Error {
  override readonly name = 'BadInput';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message} — ${hint}` : message);
  }
}

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
