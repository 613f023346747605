// The failure catalogue is what retry policies, the CLI's exit codes and the bad-input
// report read: every error class an activity throws must be in it under its class name
// (the type Temporal records), and what was non-retryable or bad input before stays so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BackupInvalidError,
  BadInputError,
  DatabaseLoginError,
  DatabaseUnreachableError,
  EXIT,
  TemporalUnreachableError,
} from '../../src/domain/errors';
import { BAD_INPUT_TYPES, exitCodeOf, failure, FAILURES, NON_RETRYABLE } from '../../src/domain/failures';
import { ConfigError } from '../../src/config';
import { CommandFailedError } from '../../src/activities/runtime/adapter';
import { RefusedError } from '../../src/client/start-operation';

test('every error class an activity or the CLI throws is a catalogued failure type', () => {
  for (const E of [
    BadInputError,
    BackupInvalidError,
    DatabaseUnreachableError,
    DatabaseLoginError,
    ConfigError,
    CommandFailedError,
    RefusedError,
    TemporalUnreachableError,
  ]) {
    assert.ok(Object.hasOwn(FAILURES, E.name), `${E.name} is missing from src/domain/failures.ts`);
  }
});

test('retryability and bad input are read from the catalogue', () => {
  for (const t of [
    'BadInputError',
    'BackupInvalidError',
    'ConfigError',
    'ReleaseUnavailable',
    'NotReady',
    'DatabaseLoginError',
    'NoCreateDb',
  ])
    assert.ok(NON_RETRYABLE.includes(t as never), t);
  assert.ok(!NON_RETRYABLE.includes('DatabaseUnreachableError'));
  assert.deepEqual([...BAD_INPUT_TYPES].sort(), [
    'BackupInvalidError',
    'BadInputError',
    'ConfigError',
    'DatabaseLoginError',
    'DatabaseUnreachableError',
    'ReleaseUnavailable',
  ]);
  assert.equal(exitCodeOf('BackupInvalidError'), EXIT.badInput);
  assert.equal(exitCodeOf('VerificationFailed'), EXIT.failed);
  assert.equal(exitCodeOf('RefusedError'), EXIT.refused);
  assert.equal(exitCodeOf('TemporalUnreachableError'), EXIT.temporalUnreachable);
  assert.equal(exitCodeOf('SomethingElse'), EXIT.failed);
  assert.equal(exitCodeOf(undefined), EXIT.failed);
});

test("failure() carries the catalogue's retryability and the cause", () => {
  const cause = new Error('below');
  const f = failure('RestoreFailedBeforeSwap', 'above', cause);
  assert.equal(f.type, 'RestoreFailedBeforeSwap');
  assert.equal(f.nonRetryable, true);
  assert.equal(f.cause, cause);
  assert.equal(failure('WebhookFailed', 'down').nonRetryable, false);
});
