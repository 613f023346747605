// Probes and introspection: liveness, readiness, conformance (version + schema), metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageOf } from './errors';
import { sendJson, sendText } from './http-io';
import { appliedMigrationIds } from './migrate';
import { checkReadiness } from './readiness';
import type { ServiceContext } from './service-context';
import { countEntries } from './vault';

/** Liveness. The pid lets `ctl start` tell its own child from another process on the port. */
export async function getHealth(ctx: ServiceContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { status: 'ok', version: ctx.release.version, pid: process.pid });
}

export async function getReady(ctx: ServiceContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const readiness = await checkReadiness(ctx);
  sendJson(res, readiness.ready ? 200 : 503, readiness);
}

export async function getConformance(ctx: ServiceContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const common = {
    version: ctx.release.version,
    dualSecret: ctx.settings.apiKeySecretPrevious !== undefined,
    signingKeyId: ctx.signingKey.ok ? ctx.signingKey.value.keyId : null,
  };
  try {
    sendJson(res, 200, { ...common, schema: await appliedMigrationIds(ctx.pool) });
  } catch (error) {
    sendJson(res, 503, { ...common, schema: null, error: `database unreachable: ${messageOf(error)}` });
  }
}

export async function getMetrics(ctx: ServiceContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ready = (await checkReadiness(ctx)).ready;
  const lines = [
    '# HELP ledger_up The API process is running.',
    '# TYPE ledger_up gauge',
    'ledger_up 1',
    '# HELP ledger_ready The API is ready to serve (see /health/ready).',
    '# TYPE ledger_ready gauge',
    `ledger_ready ${ready ? 1 : 0}`,
    '# HELP ledger_build_info The release this process behaves as.',
    '# TYPE ledger_build_info gauge',
    `ledger_build_info{version="${ctx.release.version}"} 1`,
  ];
  const entries = await countEntries(ctx.pool).catch(() => undefined);
  // Absent rather than a misleading 0 when the database cannot say.
  if (entries !== undefined) {
    lines.push('# HELP ledger_entries_total Entries in the vault.', '# TYPE ledger_entries_total gauge', `ledger_entries_total ${entries}`);
  }
  sendText(res, 200, `${lines.join('\n')}\n`, 'text/plain; version=0.0.4');
}
