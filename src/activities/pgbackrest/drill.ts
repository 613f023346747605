// The DR drill of a pgBackRest deployment: restore to a point (default: everything archived)
// into a scratch directory beside the cluster, start it on a private port paused at the
// target (never promoted, WAL archiving off), check it as the dump drill does, remove it.
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { CheckResult, DrillResult } from '../../domain/types';
import { describeTarget, type PgbackrestConfig, type RestoreTarget } from '../../domain/pgbackrest';
import { drillPolicyChecks, rowCounts, tablesSummary } from '../drill/dr-drill';
import { databaseTargetOf, withDatabase } from '../shared/pg-connection';
import { freeLoopbackPort } from '../../lib/scratch-cluster';
import { tableChecksums } from '../shared/table-checksums';
import { startClusterPrivately, stopCluster } from './cluster';
import { discardNewDir, planPitr, restoreIntoNewDir, waitUntilPausedAtTarget } from './restore';

export const drillDirOf = (c: PgbackrestConfig, runId: string) => path.join(path.dirname(c.dataDir), `day2-drill-${c.stanza}-${runId}`);

export async function drillPitr(d: DeploymentConfig, c: PgbackrestConfig, target: RestoreTarget, runId: string): Promise<DrillResult> {
  const started = Date.now();
  const plan = await planPitr(d, c, target);
  const dir = drillDirOf(c, runId);
  const label = `${plan.backup.label} → ${describeTarget(target)}`;
  await discardNewDir(dir, true);
  try {
    await restoreIntoNewDir(c, plan, dir);
    const port = await freeLoopbackPort();
    const log = `${dir}.log`;
    await startClusterPrivately(dir, port, path.dirname(c.dataDir), log, ['-c recovery_target_action=pause', '-c hot_standby=on']);
    const { adminUrl, liveName } = await databaseTargetOf(d);
    const u = new URL(adminUrl);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    await waitUntilPausedAtTarget(u.toString(), dir, log);
    const restoreSeconds = (Date.now() - started) / 1000;
    const url = withDatabase(u.toString(), liveName);
    const tables = rowCounts(await tableChecksums(url));
    const checks: CheckResult[] = [
      { name: 'restored to the target', ok: true, detail: `${label} in ${restoreSeconds.toFixed(1)} s` },
      { name: 'tables restored', ok: Object.keys(tables).length > 0, detail: tablesSummary(tables) },
      ...(await drillPolicyChecks(d, tables, url)),
    ];
    await stopCluster(dir);
    return { file: label, ok: checks.every((ch) => ch.ok), checks, tables, restoreSeconds };
  } finally {
    await discardNewDir(dir, true);
  }
}
