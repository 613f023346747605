// Audit trail (release 1.1.0+). Details carry ids and fingerprints only, never secrets.
import type { Queryable } from './db';
import type { ReleaseFeatures } from './releases';

export async function recordAuditEvent(
  db: Queryable,
  release: ReleaseFeatures,
  kind: string,
  detail: Record<string, unknown>,
): Promise<void> {
  if (!release.writesAuditEvents) return;
  await db.query('INSERT INTO audit_events (kind, detail) VALUES ($1, $2)', [kind, JSON.stringify(detail)]);
}
