// Preflight of a pgBackRest deployment: pgBackRest is installed, the server is one day2
// may configure, WAL archiving is healthy (pg_stat_archiver: no push failing since the last
// success) and the recovery point — seconds since the last archived segment — is within
// archive_timeout (plus a minute of slack).
import type { DeploymentConfig } from '../../domain/config-schema';
import type { CheckResult } from '../../domain/types';
import { archivingHealth } from './archiving';
import { inspectCluster } from './cluster';
import { pgbackrestInstalled } from './run';

export async function pgbackrestPreflightChecks(d: DeploymentConfig): Promise<CheckResult[]> {
  const c = d.backup.pgbackrest;
  if (d.backup.method !== 'pgbackrest' || !c) return [];
  const installed = await pgbackrestInstalled();
  const results: CheckResult[] = [
    { name: 'pgbackrest installed', ok: installed, detail: installed ? 'pgbackrest on PATH' : 'apt-get install -y pgbackrest' },
  ];
  const server = await inspectCluster(d, c).then(
    (f) => ({
      name: 'server day2 may configure',
      ok: true,
      detail: `${f.dataDir}, archive_mode ${f.archiveMode}${f.pendingRestart.length ? `; waiting for a restart: ${f.pendingRestart.join(', ')}` : ''}`,
    }),
    (err: Error) => ({ name: 'server day2 may configure', ok: false, detail: err.message }),
  );
  results.push(server);
  if (!server.ok) return results;
  const health = await archivingHealth(d);
  results.push({
    name: 'WAL archiving healthy',
    ok: health.ok,
    detail: `${health.detail}${health.failedCount ? ` (${health.failedCount} failed pushes since the statistics were reset)` : ''}`,
  });
  if (health.rpoSeconds !== undefined) {
    const bound = c.archiveTimeout + 60;
    results.push({
      name: 'recovery point (RPO)',
      ok: true,
      warning: health.rpoSeconds > bound,
      detail: `${health.rpoSeconds} s since the last archived segment${health.rpoSeconds > bound ? ` — more than archive_timeout ${c.archiveTimeout} s + 60 s: is the database idle, or archiving stuck?` : ` (archive_timeout ${c.archiveTimeout} s)`}`,
    });
  }
  return results;
}
