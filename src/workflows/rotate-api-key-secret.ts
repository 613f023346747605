// rotate-secrets.sh api-key-secret as a workflow: the runbook's six steps, with its
// dual-secret window made durable. The window may last days at the `verify-dual-secret`
// gate; every side effect is an idempotent activity, so workers may come and go meanwhile.
// Secrets exist only inside the activities: this file sees fingerprints.
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import { GATES, type GateName } from '../domain/gate-names';
import { failure } from '../domain/failures';
import {
  DEFAULT_ROTATION_GATE_TIMEOUT_SECONDS,
  type ApiKeySecretPair,
  type RotateApiKeySecretInput,
  type RotateApiKeySecretResult,
} from '../domain/rotation';
import type { GateDecision } from '../domain/types';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible, type WhatCancellationLeaves } from './cancellation';
import type { Gates } from './gate';
import { beginOperation } from './operation';
import { errorMessage, type ProgressTracker } from './progress';
import { rollBackApiKeyRotation } from './rotate-api-key-rollback';
import { describeRestart, verifiedRestart } from './rotation-restart';

export const ROTATE_API_KEY_STEPS = [
  'Save previous secret, write new secret',
  'Restart in dual-secret mode',
  'Verify dual-secret mode',
  'Re-hash API keys',
  'Restart and verify',
  'Commit rotation',
  'Remove previous secret and restart',
] as const;
const [BEGIN, RESTART_DUAL, VERIFY_DUAL, REHASH, RESTART_VERIFY, COMMIT, REMOVE_PREVIOUS] = ROTATE_API_KEY_STEPS;

export async function rotateApiKeySecret(input: RotateApiKeySecretInput): Promise<RotateApiKeySecretResult> {
  const { progress, gates } = beginOperation('rotate-api-key-secret', input.deployment, [...ROTATE_API_KEY_STEPS]);
  const leaves = cancellationLeaves('nothing was changed');
  return endCleanlyOnCancel(progress, leaves, () => rotationSteps(input, progress, gates, leaves));
}

/** One rotation under way: what each step needs. */
interface Rotation {
  deployment: string;
  pair: ApiKeySecretPair;
  progress: ProgressTracker;
  gates: Gates;
  leaves: WhatCancellationLeaves;
  timeoutOf: (gate: GateName) => number;
}

async function rotationSteps(
  input: RotateApiKeySecretInput,
  progress: ProgressTracker,
  gates: Gates,
  leaves: WhatCancellationLeaves,
): Promise<RotateApiKeySecretResult> {
  const { deployment } = input;
  const pair = await beginRotationStep(deployment, progress);
  const r: Rotation = {
    deployment,
    pair,
    progress,
    gates,
    leaves,
    timeoutOf: (gate) => input.gateTimeoutSeconds?.[gate] ?? DEFAULT_ROTATION_GATE_TIMEOUT_SECONDS,
  };
  const result = (rest: Omit<RotateApiKeySecretResult, 'previousFp' | 'newFp'>): RotateApiKeySecretResult => ({
    previousFp: pair.previousFp,
    newFp: pair.currentFp,
    ...rest,
  });

  const verified = await dualSecretWindow(r);
  if (!verified.approve) {
    const checks = await rollBackApiKeyRotation(deployment, pair, progress, `rejected by ${verified.by}`);
    progress.finish(`rejected by ${verified.by}: rolled back to the previous secret ${pair.previousFp}; the service works as before`);
    return result({ outcome: 'rejected', state: 'rolled-back', reason: verified.reason, checks });
  }

  const stayDual = keepDualSecretAdvice(deployment, pair);
  await rehashStep(r, stayDual);
  const committed = await commitGate(r);
  if (!committed.approve) {
    progress.finish(`rejected by ${committed.by}: kept dual-secret mode. ${stayDual}`);
    return result({ outcome: 'rejected', state: 'dual-secret', reason: committed.reason, next: stayDual, checks: [] });
  }
  const final = await removePreviousStep(r);
  progress.finish(
    `rotated: ${deployment} accepts only the new secret ${pair.currentFp}; keys hashed under ${pair.previousFp} no longer work`,
  );
  return result({ outcome: 'rotated', state: 'new-secret-only', checks: final.checks });
}

/** One atomic env-file write; a cancellation takes effect after it, so what it leaves stays exact. */
async function beginRotationStep(deployment: string, progress: ProgressTracker): Promise<ApiKeySecretPair> {
  const { workflowId, runId } = workflowInfo();
  const begun = await progress.step(
    BEGIN,
    () =>
      uninterruptible(() =>
        quick.beginApiKeyRotation.executeWithOptions(
          { summary: `Save ${deployment}'s API key secret as the previous one; write a new 32-byte secret as current` },
          [{ deployment, rotationId: `${workflowId}/${runId}` }],
        ),
      ),
    (r) => `previous ${r.previousFp}, new ${r.currentFp}${r.resumed ? ' (the env file was already in dual-secret mode: carrying on)' : ''}`,
  );
  return { previousFp: begun.previousFp, currentFp: begun.currentFp };
}

/** Restart in dual-secret mode and wait at its gate. Until the re-hash is approved nothing
 * is irreversible, so every way out — the service failing in dual-secret mode, a
 * cancellation — rolls back here (a rejection is rolled back by the caller). */
async function dualSecretWindow({ deployment, pair, progress, gates, leaves, timeoutOf }: Rotation): Promise<GateDecision> {
  try {
    await progress.step(RESTART_DUAL, () => verifiedRestart(deployment, 'dual-secret mode', 'Rolling back.'), describeRestart);
    return await gates.wait(VERIFY_DUAL, {
      name: GATES.verifyDualSecret,
      question:
        `${deployment} accepts both the previous API key secret (${pair.previousFp}) and the new one (${pair.currentFp}). ` +
        'Check your integrations for as long as you need. Approve to re-hash every API key under the new secret ' +
        '(irreversible: after it, a rejection keeps dual-secret mode); reject to roll back to the previous secret.',
      timeoutSeconds: timeoutOf(GATES.verifyDualSecret),
      defaultOutcome: 'reject',
    });
  } catch (err) {
    const cancelled = isCancellation(err);
    const why = cancelled ? 'cancelled' : `${deployment} did not work in dual-secret mode (${errorMessage(err)})`;
    await rollBackApiKeyRotation(deployment, pair, progress, why);
    leaves.now = `rolled back to the previous secret ${pair.previousFp}; nothing was re-hashed`;
    if (cancelled) throw err;
    progress.finish(`failed in dual-secret mode; ${leaves.now}`);
    throw failure('RotationRolledBack', `${why}; ${leaves.now}`);
  }
}

/** The irreversible re-hash, then a verified restart; from here on, stopping leaves dual-secret mode. */
async function rehashStep({ deployment, pair, progress, leaves }: Rotation, stayDual: string): Promise<void> {
  leaves.now = stayDual;
  await progress.step(
    REHASH,
    () =>
      long.rehashApiKeys.executeWithOptions(
        { summary: `Re-hash every API key of ${deployment} under the new secret ${pair.currentFp} (irreversible)` },
        [{ deployment }],
      ),
    () => `every API key re-hashed under ${pair.currentFp}`,
  );
  await progress.step(RESTART_VERIFY, () => verifiedRestart(deployment, 'after the re-hash', stayDual), describeRestart);
}

function commitGate({ deployment, pair, gates, timeoutOf }: Rotation): Promise<GateDecision> {
  return gates.wait(COMMIT, {
    name: GATES.commitRotation,
    question:
      `Every API key of ${deployment} is hashed under the new secret (${pair.currentFp}) and both secrets are still accepted. ` +
      `Approve to remove the previous secret (${pair.previousFp}) and restart: keys hashed under it stop working. ` +
      'Reject to stay in dual-secret mode for now.',
    timeoutSeconds: timeoutOf(GATES.commitRotation),
    defaultOutcome: 'reject',
  });
}

/** Removal and restart belong together: a cancellation takes effect after both. */
function removePreviousStep({ deployment, pair, progress, leaves }: Rotation) {
  return progress.step(
    REMOVE_PREVIOUS,
    () =>
      uninterruptible(async () => {
        await quick.removePreviousApiKeySecret.executeWithOptions(
          { summary: `Remove the previous API key secret ${pair.previousFp} from ${deployment}'s env file` },
          [{ deployment, keepFp: pair.currentFp }],
        );
        leaves.now = `the previous secret ${pair.previousFp} is removed; every key is hashed under ${pair.currentFp}`;
        return verifiedRestart(deployment, 'new secret only', `${leaves.now}.`);
      }),
    describeRestart,
  );
}

function keepDualSecretAdvice(deployment: string, pair: ApiKeySecretPair): string {
  return (
    `${deployment} stays in dual-secret mode: both secrets are accepted and every key is re-hashed under ${pair.currentFp}. ` +
    `To finish, run \`day2 rotate api-key-secret --deployment ${deployment}\` again (it carries on from the env file) ` +
    `and approve its gates; until then the previous secret ${pair.previousFp} stays valid.`
  );
}
