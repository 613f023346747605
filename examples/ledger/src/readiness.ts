// Readiness: may this process take traffic? Alert on this, not on liveness.
import { messageOf } from './errors';
import { pendingMessage, pendingMigrationIds } from './migrate';
import type { ServiceContext } from './service-context';

export type Readiness = { ready: true; version: string; signingKeyId: string } | { ready: false; reason: string; pending?: string[] };

export async function checkReadiness(ctx: ServiceContext): Promise<Readiness> {
  if (ctx.shuttingDown) return { ready: false, reason: 'shutting down' };
  if (ctx.release.brokenReason) return { ready: false, reason: ctx.release.brokenReason };
  if (!ctx.apiKeySecrets.ok) return { ready: false, reason: ctx.apiKeySecrets.problem };
  if (!ctx.signingKey.ok) return { ready: false, reason: ctx.signingKey.problem };
  let pending: string[];
  try {
    pending = await pendingMigrationIds(ctx.pool, ctx.release.version);
  } catch (error) {
    return { ready: false, reason: `database unreachable: ${messageOf(error)}` };
  }
  if (pending.length > 0) return { ready: false, reason: pendingMessage(ctx.release.version), pending };
  return { ready: true, version: ctx.release.version, signingKeyId: ctx.signingKey.value.keyId };
}
