// The env-file edits of the API key secret rotation. Each reads the file, decides from the
// fingerprints of what it finds whether its edit is already done, and otherwise makes it in
// one atomic rewrite — so a retry after a crash at any point is a no-op or a completion.
// Secret values live only in local variables here; callers get fingerprints.
import { randomBytes } from 'node:crypto';
import { failure } from '../../domain/failures';
import { BadInputError } from '../../domain/errors';
import type { ApiKeySecretPair, BeginApiKeyRotationResult } from '../../domain/rotation';
import { editEnvFile, readEnvFile } from '../../envfile';
import { fingerprint } from '../shared/secret-fingerprint';

export interface ApiKeySecretVars {
  file: string;
  currentVar: string;
  previousVar: string;
}

/** 32 random bytes as 64 hex characters, as the runbook generates them. */
export const newApiKeySecret = () => randomBytes(32).toString('hex');

async function readSecrets(v: ApiKeySecretVars) {
  const env = await readEnvFile(v.file);
  // An empty value counts as unset, as it does for the service.
  const current = env.get(v.currentVar) || undefined;
  const previous = env.get(v.previousVar) || undefined;
  return { current, previous, currentFp: current && fingerprint(current), previousFp: previous && fingerprint(previous) };
}

/** Runbook steps 1–2: the current secret becomes the previous one, a new one the current,
 * in a single write (never a file with one step done and not the other). */
export async function beginApiKeyRotation(v: ApiKeySecretVars, generate = newApiKeySecret): Promise<BeginApiKeyRotationResult> {
  const s = await readSecrets(v);
  if (!s.current) throw new BadInputError(`${v.currentVar} is not set in ${v.file}: there is no secret to rotate`);
  if (s.previous && s.previous !== s.current) {
    // Already in dual-secret mode: this step's own write (a retry), or a rotation left
    // unfinished. Either way the pair in the file is the rotation to carry on with.
    return { previousFp: s.previousFp!, currentFp: s.currentFp!, resumed: true };
  }
  const next = generate();
  await editEnvFile(v.file, { set: { [v.previousVar]: s.current, [v.currentVar]: next } });
  return { previousFp: s.currentFp!, currentFp: fingerprint(next), resumed: false };
}

/** Rollback: the pre-rotation secret is current again and the new one becomes the previous,
 * so keys hashed under it meanwhile keep working until they are re-hashed back. */
export async function restorePreviousApiKeySecret(v: ApiKeySecretVars, pair: ApiKeySecretPair): Promise<{ changed: boolean }> {
  const s = await readSecrets(v);
  if (s.currentFp === pair.previousFp && (s.previousFp === pair.currentFp || !s.previous)) return { changed: false };
  if (s.currentFp === pair.currentFp && s.previousFp === pair.previousFp) {
    await editEnvFile(v.file, { set: { [v.currentVar]: s.previous!, [v.previousVar]: s.current! } });
    return { changed: true };
  }
  throw stateChanged(v, s, `the rotation from ${pair.previousFp} to ${pair.currentFp}`);
}

/** Runbook step 6 (and the end of a rollback): drop the previous secret, but only while the
 * current one is the secret meant to stay — never strand keys under an unexpected pair. */
export async function removePreviousApiKeySecret(v: ApiKeySecretVars, keepFp: string): Promise<{ removed: boolean }> {
  const s = await readSecrets(v);
  if (s.currentFp !== keepFp) throw stateChanged(v, s, `${v.currentVar} = ${keepFp}`);
  const { changed } = await editEnvFile(v.file, { remove: [v.previousVar] });
  return { removed: changed };
}

/** Someone edited the secrets while the rotation ran: stop, and say what is there now. */
function stateChanged(v: ApiKeySecretVars, s: { currentFp?: string; previousFp?: string }, expected: string) {
  return failure(
    'RotationStateChanged',
    `${v.file} no longer matches ${expected}: ${v.currentVar} is ${s.currentFp ?? 'unset'}, ` +
      `${v.previousVar} is ${s.previousFp ?? 'unset'} (fingerprints). Was it edited by hand? ` +
      'Check which secret your API keys are hashed under before changing anything.',
  );
}
