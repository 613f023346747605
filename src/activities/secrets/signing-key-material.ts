// Ed25519 key material for the vault signing key: generate, encode for the env file, read
// back, and describe by public values only. Errors never quote the key (a parser's message
// could echo part of it).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { BadInputError } from '../../domain/errors';
import type { DeploymentConfig } from '../../domain/config-schema';
import { fingerprint, sha256Hex } from '../shared/secret-fingerprint';

export type SigningKeyFormat = DeploymentConfig['secrets']['signingKeyFormat'];

export interface PublicKeyInfo {
  /** First 12 hex of SHA-256 of the SPKI DER: what the ledger stores with each entry. */
  keyId: string;
  /** Base64 of the SPKI DER. */
  publicKey: string;
  /** Full SHA-256 of the SPKI DER, hex. */
  fingerprint: string;
}

export function generateSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** `pkcs8-der-base64`: one base64 word. `pem`: the PEM text; the env file writer puts it on
 * one line as `"…\n…"`, which dotenv readers (and the ledger) turn back into a PEM. */
export function encodePrivateKey(key: KeyObject, format: SigningKeyFormat): string {
  return format === 'pem'
    ? key.export({ format: 'pem', type: 'pkcs8' }).toString()
    : key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** Either format, including a PEM whose line ends were written as a literal `\n`. */
export function decodePrivateKey(value: string, varName: string): KeyObject {
  let key: KeyObject;
  try {
    key = value.includes('-----BEGIN')
      ? createPrivateKey({ key: value.replace(/\\n/g, '\n'), format: 'pem' })
      : createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new BadInputError(`${varName} is not a PKCS#8 private key (base64 DER or PEM)`, 'fix the env file before rotating');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new BadInputError(`${varName} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
  }
  return key;
}

export function publicKeyInfo(privateKey: KeyObject): PublicKeyInfo {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { keyId: fingerprint(der), publicKey: der.toString('base64'), fingerprint: sha256Hex(der) };
}
