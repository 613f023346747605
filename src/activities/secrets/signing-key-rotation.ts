// The vault signing key rotation's one side effect, made idempotent by its rotation id: the
// old public key goes into the keyring first (tagged with the rotation), then the new
// private key into the env file. A retry finds its keyring entry and either sees the env
// file already holding another key (done) or writes one (the crash fell in between).
import { editEnvFile, readEnvFile } from '../../envfile';
import type { SigningKeyRotation } from '../../domain/rotation';
import { BadInputError } from '../../domain/errors';
import { decodePrivateKey, encodePrivateKey, generateSigningKey, publicKeyInfo, type SigningKeyFormat } from './signing-key-material';
import { readKeyring, writeKeyring } from './signing-keyring';

export interface SigningKeyTarget {
  envFile: string;
  varName: string;
  format: SigningKeyFormat;
  keyringFile: string;
}

export async function rotateSigningKeyIn(t: SigningKeyTarget, rotationId: string, now = new Date()): Promise<SigningKeyRotation> {
  const value = (await readEnvFile(t.envFile)).get(t.varName);
  if (!value) throw new BadInputError(`${t.varName} is not set in ${t.envFile}: there is no signing key to rotate`);
  const current = publicKeyInfo(decodePrivateKey(value, t.varName));
  const keyring = await readKeyring(t.keyringFile);

  let retired = keyring.keys.find((k) => k.rotationId === rotationId);
  if (retired && retired.keyId !== current.keyId) {
    return { oldKeyId: retired.keyId, newKeyId: current.keyId, keyring: t.keyringFile, retiredAt: retired.to ?? now.toISOString() };
  }
  if (!retired) {
    // The current key took over when the previous rotation retired its predecessor.
    const from = keyring.keys.at(-1)?.to ?? null;
    retired = { ...current, from, to: now.toISOString(), rotationId };
    await writeKeyring(t.keyringFile, { ...keyring, keys: [...keyring.keys, retired] });
  }
  const next = generateSigningKey();
  await editEnvFile(t.envFile, { set: { [t.varName]: encodePrivateKey(next, t.format) } });
  return {
    oldKeyId: current.keyId,
    newKeyId: publicKeyInfo(next).keyId,
    keyring: t.keyringFile,
    retiredAt: retired.to ?? now.toISOString(),
  };
}
