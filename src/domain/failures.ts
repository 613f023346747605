// Every failure type day2 raises, once: whether retrying can help and the CLI exit code it
// ends in. The activities' retry policy, the CLI's bad-input test and its exit codes are
// read from here, so a new failure type is one line. A type is the name Temporal records
// in history: an ApplicationFailure's `type`, or the class name of an error an activity
// throws (Temporal names the failure after `constructor.name`) — never rename one.
import { ApplicationFailure } from '@temporalio/common';
import { EXIT } from './errors';

interface FailureSpec {
  /** Worth another attempt of the activity (a dead database may come back). */
  readonly retryable: boolean;
  /** What `day2` exits with when an operation ends in this failure. */
  readonly exit: (typeof EXIT)[keyof typeof EXIT];
}

const answer = (exit: FailureSpec['exit']): FailureSpec => ({ retryable: false, exit });
const transient = (exit: FailureSpec['exit']): FailureSpec => ({ retryable: true, exit });

export const FAILURES = {
  // Bad input: nothing was touched (exit 2).
  BadInputError: answer(EXIT.badInput),
  BackupInvalidError: answer(EXIT.badInput),
  ConfigError: answer(EXIT.badInput),
  ReleaseUnavailable: answer(EXIT.badInput),
  DatabaseLoginError: answer(EXIT.badInput),
  /** Only the reachability probe run before anything is touched throws it. */
  DatabaseUnreachableError: transient(EXIT.badInput),
  // Answers retrying cannot change: the operation failed (exit 1).
  NotReady: answer(EXIT.failed),
  /** The role cannot create a staging database: restore falls back to an in-place restore. */
  NoCreateDb: answer(EXIT.failed),
  /** The restore child failed before its swap: the live database is untouched. */
  RestoreFailedBeforeSwap: answer(EXIT.failed),
  VerificationFailed: answer(EXIT.failed),
  /** A restore kept the running release and its migrations failed on the restored data. */
  MigrationFailed: answer(EXIT.failed),
  PreflightFailed: answer(EXIT.failed),
  VersionMismatch: answer(EXIT.failed),
  RollbackFailed: answer(EXIT.failed),
  RotationRolledBack: answer(EXIT.failed),
  RotationStateChanged: answer(EXIT.failed),
  OffsiteRefused: answer(EXIT.failed),
  // Transient: the activity's retry policy rides them out, then the operation fails.
  OffsiteUnavailable: transient(EXIT.failed),
  OffsiteMismatch: transient(EXIT.failed),
  WebhookFailed: transient(EXIT.failed),
  StaleConfig: transient(EXIT.failed),
  CommandFailedError: transient(EXIT.failed),
  // The CLI's own, before any workflow runs.
  /** Another operation holds the deployment, or the gate is not waiting (exit 3). */
  RefusedError: answer(EXIT.refused),
  TemporalUnreachableError: transient(EXIT.temporalUnreachable),
} as const satisfies Record<string, FailureSpec>;

export type FailureType = keyof typeof FAILURES;

const types = Object.keys(FAILURES) as FailureType[];

/** For activity retry policies: failure types retrying cannot help. */
export const NON_RETRYABLE: readonly FailureType[] = types.filter((t) => !FAILURES[t].retryable);

/** Failure types that mean the operator's input was wrong (CLI exit code 2). */
export const BAD_INPUT_TYPES: readonly FailureType[] = types.filter((t) => FAILURES[t].exit === EXIT.badInput);

export function isBadInput(type: string | undefined): boolean {
  return (BAD_INPUT_TYPES as readonly string[]).includes(type ?? '');
}

/** The CLI exit code of an operation that ended in a failure of `type`. */
export function exitCodeOf(type: string | undefined): number {
  return type !== undefined && Object.hasOwn(FAILURES, type) ? FAILURES[type as FailureType].exit : EXIT.failed;
}

/** The one way workflows and activities raise: `throw failure('VerificationFailed', …)`.
 * Retryability comes from the catalogue; `cause` keeps the failure chain the CLI reads. */
export function failure(type: FailureType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: !FAILURES[type].retryable, cause });
}
