// Gate names are in running workflows' histories, in the approver's day2.yaml `gates:`
// keys and in people's runbooks: the workflows take them from one object, and this test
// keeps its strings from changing under anyone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertKnownGate, GATE_NAMES, GATES } from '../../src/domain/gate-names';

test('the gate names are the ones histories and day2.yaml files already hold', () => {
  assert.deepEqual(GATES, {
    confirmRestore: 'confirm-restore',
    confirmRollback: 'confirm-rollback',
    rollbackFailedUpgrade: 'rollback-failed-upgrade',
    proceedDespitePreflight: 'proceed-despite-preflight',
    verifyDualSecret: 'verify-dual-secret',
    commitRotation: 'commit-rotation',
    restartForArchiving: 'restart-for-archiving',
    promoteFleet: 'promote-fleet',
  });
  assert.equal(new Set(GATE_NAMES).size, GATE_NAMES.length);
});

test('an unknown gate name is bad input naming the real ones', () => {
  assert.equal(assertKnownGate('confirm-restore'), GATES.confirmRestore);
  assert.throws(
    () => assertKnownGate('nope'),
    (err: Error) => err.name === 'BadInput' && /no gate 'nope'.*confirm-restore/.test(err.message),
  );
});
