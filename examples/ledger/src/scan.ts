// The vault integrity scan: every link, every hash, every signature, in seq order.
import type { KeyObject } from 'node:crypto';
import type { Queryable } from './db';
import { GENESIS_HASH, linkHash, signatureValid } from './vault-chain';
import { readEntries, type StoredEntry } from './vault';

export interface ScanReport {
  ok: boolean;
  entries: number;
  /** Signing key ids the entries carry, in order of first use. */
  keys: string[];
  broken: { seq: number; reason: string }[];
}

const PAGE = 1000;

export async function scanVault(db: Queryable, publicKeys: ReadonlyMap<string, KeyObject>): Promise<ScanReport> {
  const report: ScanReport = { ok: true, entries: 0, keys: [], broken: [] };
  let previous: StoredEntry | undefined;
  for (;;) {
    const page = await readEntries(db, previous?.seq ?? 0, PAGE);
    for (const entry of page) {
      const reason = brokenReason(entry, previous, publicKeys);
      if (reason) report.broken.push({ seq: entry.seq, reason });
      if (!report.keys.includes(entry.keyId)) report.keys.push(entry.keyId);
      report.entries += 1;
      previous = entry;
    }
    if (page.length < PAGE) break;
  }
  report.ok = report.broken.length === 0;
  return report;
}

/** Why an entry does not verify, or undefined. Each entry is judged on its own fields and
 * its predecessor's stored hash, so one altered entry is reported once, not forever after. */
function brokenReason(
  entry: StoredEntry,
  previous: StoredEntry | undefined,
  publicKeys: ReadonlyMap<string, KeyObject>,
): string | undefined {
  const expectedSeq = (previous?.seq ?? 0) + 1;
  if (entry.seq !== expectedSeq) return `expected seq ${expectedSeq}: entries missing`;
  const expectedPrev = previous?.hash ?? GENESIS_HASH;
  if (entry.prevHash !== expectedPrev) return `prev_hash does not match the hash of entry ${expectedSeq - 1}`;
  if (linkHash(entry.prevHash, entry.seq, entry.payload) !== entry.hash) return 'hash mismatch: payload or link altered';
  const publicKey = publicKeys.get(entry.keyId);
  if (!publicKey) return `unknown signing key ${entry.keyId}`;
  if (!signatureValid(entry.hash, entry.signature, publicKey)) return `bad signature for key ${entry.keyId}`;
  return undefined;
}
