// Activities of the secret rotations. They generate, read and write the secrets themselves
// and hand back fingerprints and key ids only: nothing that enters workflow history, an
// activity result or a log line can be used as a secret (invariant 4).
import { ConfigError } from '../../config';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { ApiKeySecretPair } from '../../domain/rotation';
import { beginApiKeyRotation, removePreviousApiKeySecret, restorePreviousApiKeySecret, type ApiKeySecretVars } from './api-key-rotation';
import type { ActivityDeps } from '../shared/deps';
import { rotateSigningKeyIn } from './signing-key-rotation';
import { keyringPath } from './signing-keyring';

interface RotationInput {
  deployment: string;
  /** `<workflowId>/<runId>`: tags the keyring entry a signing-key rotation writes (so a retry
   * finds its own work) and names the rotation in logs. */
  rotationId: string;
}

export function secretsActivities(deps: ActivityDeps) {
  const resolve = (name: string) => {
    const d = deps.resolve(name);
    const vars: ApiKeySecretVars = {
      file: d.envFile,
      currentVar: d.secrets.apiKeySecretVar,
      previousVar: d.secrets.apiKeySecretPreviousVar,
    };
    return { d, vars, logger: deps.logger.child({ deployment: name }) };
  };

  return {
    /** Runbook steps 1–2. Refuses up front (nothing touched) when the deployment cannot
     * re-hash keys, since step 4 could then never run. */
    async beginApiKeyRotation({ deployment, rotationId }: RotationInput) {
      const { d, vars, logger } = resolve(deployment);
      assertCanRehash(d);
      const result = await beginApiKeyRotation(vars);
      logger.info(
        { rotationId, previousFp: result.previousFp, currentFp: result.currentFp, resumed: result.resumed },
        'API key secret rotation begun: dual-secret mode written',
      );
      return result;
    },

    async restorePreviousApiKeySecret({ deployment, ...pair }: { deployment: string } & ApiKeySecretPair) {
      const { vars, logger } = resolve(deployment);
      const result = await restorePreviousApiKeySecret(vars, pair);
      logger.info(
        { currentFp: pair.previousFp, previousFp: pair.currentFp, changed: result.changed },
        'API key secret rotation rolled back in the env file',
      );
      return result;
    },

    async removePreviousApiKeySecret({ deployment, keepFp }: { deployment: string; keepFp: string }) {
      const { vars, logger } = resolve(deployment);
      const result = await removePreviousApiKeySecret(vars, keepFp);
      logger.info({ currentFp: keepFp, removed: result.removed }, 'previous API key secret removed from the env file');
      return result;
    },

    async rotateSigningKey({ deployment, rotationId }: RotationInput) {
      const { d, logger } = resolve(deployment);
      const result = await rotateSigningKeyIn(
        {
          envFile: d.envFile,
          varName: d.secrets.signingKeyVar,
          format: d.secrets.signingKeyFormat,
          keyringFile: keyringPath(d.backup.dir),
        },
        rotationId,
      );
      logger.info(
        { rotationId, oldKeyId: result.oldKeyId, newKeyId: result.newKeyId },
        'vault signing key rotated; old public key kept in the keyring',
      );
      return result;
    },
  };
}

function assertCanRehash(d: DeploymentConfig): void {
  const configured = d.runtime.kind === 'commands' ? Boolean(d.runtime.rehashKeys) : Boolean(d.runtime.rehashCommand?.length);
  if (!configured) {
    const key = d.runtime.kind === 'commands' ? 'rehashKeys' : 'rehashCommand';
    throw new ConfigError(`runtime.${key} is not configured: the rotation could not re-hash API keys — add it to day2.yaml first`);
  }
}
