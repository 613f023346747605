// The pre-upgrade recovery point of a pgBackRest deployment: a named restore point written
// once the worker is stopped and before the first migration, recorded in the backup
// directory so `day2 rollback` finds it. Idempotent per upgrade: a retry (the worker killed
// after the point was written) returns the recorded point instead of writing a later one.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { PreUpgradePoint } from '../../domain/pgbackrest';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../../lib/atomic-file';
import { ensureBackupDir } from '../shared/backup-files';
import { databaseTargetOf, withClient } from '../shared/pg-connection';

const POINT_FILE = '.pre-upgrade-point.json';

export async function readRecoveryPoint(d: DeploymentConfig): Promise<PreUpgradePoint | null> {
  try {
    return JSON.parse(await readFile(path.join(d.backup.dir, POINT_FILE), 'utf8')) as PreUpgradePoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function markRecoveryPoint(
  d: DeploymentConfig,
  run: { workflowId: string; version: string; backupLabel: string },
): Promise<PreUpgradePoint> {
  const recorded = await readRecoveryPoint(d).catch(() => null);
  if (recorded?.workflowId === run.workflowId) return recorded;
  const { adminUrl } = await databaseTargetOf(d);
  // Restore point names are at most 63 bytes; the workflow id makes it findable in the WAL.
  const name = `day2-pre-upgrade-${run.workflowId}`.slice(0, 63);
  const point = await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ lsn: string; at: Date }>(
      'SELECT pg_create_restore_point($1)::text AS lsn, clock_timestamp() AS at',
      [name],
    );
    return rows[0]!;
  });
  const result: PreUpgradePoint = { ...run, lsn: point.lsn, at: point.at.toISOString() };
  await ensureBackupDir(d.backup.dir);
  await writeFileAtomic(path.join(d.backup.dir, POINT_FILE), `${JSON.stringify(result, null, 2)}\n`, PRIVATE_FILE_MODE);
  return result;
}
