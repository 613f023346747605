// How one vault entry is linked to the previous and signed: the rules append and scan share.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/** prev_hash of entry 1. */
export const GENESIS_HASH = '0'.repeat(64);

export function linkHash(prevHash: string, seq: number, payload: unknown): string {
  return createHash('sha256')
    .update(`${prevHash}\n${seq}\n${canonicalJson(payload)}`, 'utf8')
    .digest('hex');
}

/** Ed25519 over the 32 raw bytes of the hash; base64. */
export function signHash(hash: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64');
}

export function signatureValid(hash: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(hash, 'hex'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
