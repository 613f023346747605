// The release catalogue: what each version of the ledger does differently. A process
// "behaves as release X" by asking this module, never by comparing versions itself.
import { LedgerError } from './errors';

interface Release {
  version: string;
  /** Set for a release that starts but never becomes ready (tests automatic rollback). */
  brokenReason?: string;
}

const RELEASES: readonly Release[] = [
  { version: '1.0.0' },
  { version: '1.1.0' },
  { version: '1.2.0' },
  {
    version: '1.3.0',
    brokenReason: 'release 1.3.0 is broken: the feature-flag cache never finishes warming up',
  },
];

export const KNOWN_VERSIONS: readonly string[] = RELEASES.map((r) => r.version);

/** What a release does, derived from its version. */
export interface ReleaseFeatures {
  version: string;
  brokenReason: string | undefined;
  /** 1.1.0+: writes audit_events. */
  writesAuditEvents: boolean;
  /** 1.2.0+: sets entries.payload_bytes on new entries. */
  recordsPayloadBytes: boolean;
  /** 1.2.0+: LEDGER_LEGACY_AUTH was removed; a release that sees it refuses to start. */
  refusesLegacyAuth: boolean;
}

export function isKnownRelease(version: string): boolean {
  return KNOWN_VERSIONS.includes(version);
}

export function unknownReleaseMessage(version: string): string {
  return `unknown release ${version} (known: ${KNOWN_VERSIONS.join(', ')})`;
}

export function requireRelease(version: string): ReleaseFeatures {
  const release = RELEASES.find((r) => r.version === version);
  if (!release) throw new LedgerError(unknownReleaseMessage(version));
  return {
    version,
    brokenReason: release.brokenReason,
    writesAuditEvents: compareVersions(version, '1.1.0') >= 0,
    recordsPayloadBytes: compareVersions(version, '1.2.0') >= 0,
    refusesLegacyAuth: compareVersions(version, '1.2.0') >= 0,
  };
}

/** Numeric comparison of dotted versions (only catalogue versions reach it). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}
