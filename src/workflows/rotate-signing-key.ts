// rotate-secrets.sh vault-signing-key as a workflow, safer: the old public key is kept in a
// keyring beside the backups (with the time range it signed) before the new private key is
// written, so history stays verifiable; after the restart the deployment's verify checks
// (for the ledger: a new entry, then a scan of the whole chain with the keyring) must pass.
import { workflowInfo } from '@temporalio/workflow';
import type { RotateSigningKeyInput, RotateSigningKeyResult } from '../domain/rotation';
import { quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel, uninterruptible } from './cancellation';
import { beginOperation } from './operation';
import { describeRestart, verifiedRestart } from './rotation-restart';

export const ROTATE_SIGNING_KEY_STEPS = ['Generate new key, keep old public key', 'Restart and verify across both keys'] as const;
const [GENERATE, RESTART_VERIFY] = ROTATE_SIGNING_KEY_STEPS;

export async function rotateSigningKey(input: RotateSigningKeyInput): Promise<RotateSigningKeyResult> {
  const { deployment } = input;
  const { progress } = beginOperation('rotate-signing-key', deployment, [...ROTATE_SIGNING_KEY_STEPS]);
  const { workflowId, runId } = workflowInfo();
  const where = cancellationLeaves('nothing was changed');

  return endCleanlyOnCancel(progress, where, async () => {
    // Written key and restart belong together: a cancellation takes effect after both.
    const rotation = await uninterruptible(() =>
      progress.step(
        GENERATE,
        () =>
          quick.rotateSigningKey.executeWithOptions(
            { summary: `Generate a new Ed25519 signing key for ${deployment}; add the old public key to the keyring beside the backups` },
            [{ deployment, rotationId: `${workflowId}/${runId}` }],
          ),
        (r) => `new key ${r.newKeyId}; old key ${r.oldKeyId} kept in ${r.keyring}`,
      ),
    );
    where.now = `${deployment} signs with the new key ${rotation.newKeyId}; the old key ${rotation.oldKeyId} is in ${rotation.keyring}`;
    const report = await progress.step(
      RESTART_VERIFY,
      () => verifiedRestart(deployment, `signing with ${rotation.newKeyId}`, `${where.now} (a chain scan must be given that keyring).`),
      describeRestart,
    );
    progress.finish(
      `rotated: new entries are signed with ${rotation.newKeyId}; ${rotation.oldKeyId} verifies older entries from the keyring`,
    );
    return { outcome: 'rotated', ...rotation, checks: report.checks };
  });
}
