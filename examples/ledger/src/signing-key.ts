// The vault's Ed25519 signing key. Its id — first 12 hex of SHA-256 of the public key's
// SPKI DER — is stored with every entry, so history stays verifiable after a rotation as
// long as the old public key is kept (the keyring).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { LedgerError } from './errors';

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Reads VAULT_SIGNING_KEY: base64 of PKCS#8 DER, or a PEM (newlines may be written `\n`). */
export function loadSigningKey(value: string | undefined): SigningKey {
  if (value === undefined) throw new LedgerError('VAULT_SIGNING_KEY is not set');
  let privateKey: KeyObject;
  try {
    privateKey = value.includes('-----BEGIN')
      ? createPrivateKey({ key: value.replace(/\\n/g, '\n'), format: 'pem' })
      : createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    // The library's message could echo key material: say only what is wrong.
    throw new LedgerError('VAULT_SIGNING_KEY is not a PKCS#8 private key (expected base64 of DER)');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new LedgerError(`VAULT_SIGNING_KEY is a ${privateKey.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: signingKeyId(publicKey), privateKey, publicKey };
}

export function signingKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 12);
}

export function publicKeyFromSpki(base64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
}
