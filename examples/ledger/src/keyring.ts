// Public keys of retired signing keys, written by day2 during a signing-key rotation so
// that entries signed before it stay verifiable. Extra fields are tolerated.
import { existsSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { LedgerError, messageOf } from './errors';
import { publicKeyFromSpki, signingKeyId } from './signing-key';

const keyringSchema = z.looseObject({
  keys: z.array(
    z.looseObject({
      keyId: z.string().optional(),
      publicKey: z.string().min(1),
    }),
  ),
});

export interface KeyringKey {
  keyId: string;
  publicKey: KeyObject;
}

/** Keys indexed by the id derived from the key itself; `warnings` notes disagreeing declared ids. */
export function readKeyring(path: string): { keys: KeyringKey[]; warnings: string[] } {
  // Before the first signing-key rotation there is no keyring yet: no retired keys.
  if (!existsSync(path)) return { keys: [], warnings: [`keyring ${path} does not exist yet; no retired keys`] };
  let parsed: z.infer<typeof keyringSchema>;
  try {
    parsed = keyringSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new LedgerError(`cannot read keyring ${path}: ${firstLine(messageOf(error))}`);
  }
  const keys: KeyringKey[] = [];
  const warnings: string[] = [];
  parsed.keys.forEach((entry, index) => {
    let publicKey: KeyObject;
    try {
      publicKey = publicKeyFromSpki(entry.publicKey);
    } catch {
      throw new LedgerError(`keyring ${path}: keys[${index}].publicKey is not a base64 SPKI DER public key`);
    }
    const keyId = signingKeyId(publicKey);
    // The id derived from the key is what entries carry; a different declared id is a
    // bookkeeping slip worth reporting, not a reason to distrust a valid key.
    if (entry.keyId !== undefined && entry.keyId !== keyId) {
      warnings.push(`keyring keys[${index}] declares keyId ${entry.keyId} but its public key has id ${keyId}`);
    }
    keys.push({ keyId, publicKey });
  });
  return { keys, warnings };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
