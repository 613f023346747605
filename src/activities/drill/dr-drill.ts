// dr-test.sh as one activity: prove a backup restores, far from production. The archive is
// verified (manifest checksum, pg_restore --list), restored into a scratch PostgreSQL
// cluster started for the drill alone, and checked there: every table of the archive is
// back, the configured tables have rows, the configured SQL checks pass. The cluster is
// removed afterwards, and a retry first removes whatever a crashed attempt left.
import os from 'node:os';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { CheckResult, DrillResult } from '../../domain/types';
import { verifyBackupFile } from '../database/backup-verify';
import { withRestorableArchive } from '../database/restorable-archive';
import { runChecks } from '../../checks';
import { beat } from '../shared/heartbeat';
import { liveDatabaseNameOf, quoteIdent, withClient, withDatabase } from '../shared/pg-connection';
import { failedOutputKeeper } from '../shared/failure-log';
import { runPgProgram } from '../shared/pg-programs';
import { removeScratchCluster, startScratchCluster } from '../../lib/scratch-cluster';
import { tableChecksums } from '../shared/table-checksums';

export interface DrillRun {
  deployment: string;
  file: string;
  /** Names the scratch cluster's directory: a retry of the same run finds its leftovers. */
  runId: string;
}

export function drillDir(deployment: string, runId: string): string {
  return path.join(os.tmpdir(), `day2-drill-${deployment}-${runId}`);
}

export async function drillBackup(d: DeploymentConfig, input: DrillRun): Promise<DrillResult> {
  const liveName = await liveDatabaseNameOf(d);
  const { manifest, contents } = await verifyBackupFile(d, input.deployment, input.file, liveName);
  const checks: CheckResult[] = [
    {
      name: 'archive verified',
      ok: true,
      detail: `sha256 ${manifest.sha256.slice(0, 12)}…, ${contents.tocEntries} entries, ${contents.tables.length} tables`,
    },
  ];
  const dir = drillDir(input.deployment, input.runId);
  await removeScratchCluster(dir);
  beat({ drill: 'starting a scratch cluster' });
  const cluster = await startScratchCluster(dir);
  try {
    const url = withDatabase(cluster.adminUrl, manifest.database);
    await withClient(cluster.adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(manifest.database)}`));
    const started = Date.now();
    beat({ drill: 'restoring' });
    // A directory-format backup is unpacked (and checked against its manifest again) first.
    const restore = await withRestorableArchive(d.backup.dir, input.file, input.runId, (archive) =>
      runPgProgram({
        tool: 'pg_restore',
        // No roles exist in a fresh cluster: objects belong to its superuser.
        args: ['--no-owner', '--no-acl', '--exit-on-error', archive.path],
        url,
        what: `restore of ${input.file} into a scratch cluster`,
        keepOutput: failedOutputKeeper(d),
      }),
    ).then(
      () => undefined,
      (err: Error) => err.message,
    );
    const restoreSeconds = (Date.now() - started) / 1000;
    checks.push({
      name: 'restored without errors',
      ok: restore === undefined,
      detail: restore ?? `pg_restore took ${restoreSeconds.toFixed(1)} s`,
    });
    if (restore !== undefined) return { file: input.file, ok: false, checks, tables: {}, restoreSeconds };

    beat({ drill: 'checking' });
    const tables = rowCounts(await tableChecksums(url));
    const missing = contents.tables.filter((t) => !(t in tables));
    checks.push({
      name: 'every table of the archive restored',
      ok: missing.length === 0,
      detail: missing.length ? `missing after the restore: ${missing.join(', ')}` : tablesSummary(tables),
    });
    checks.push(...(await drillPolicyChecks(d, tables, url)));
    return { file: input.file, ok: checks.every((c) => c.ok), checks, tables, restoreSeconds };
  } finally {
    await cluster.remove();
  }
}

/** "3 tables, 120 rows" of a restored copy. */
export function tablesSummary(tables: Record<string, number>): string {
  return `${Object.keys(tables).length} tables, ${Object.values(tables).reduce((a, b) => a + b, 0)} rows`;
}

/** What day2.yaml's `drill` asks of a restored copy (whatever method restored it): at least
 * `minTables` tables, rows in each of `requireRows`, then its configured checks. */
export async function drillPolicyChecks(d: DeploymentConfig, tables: Record<string, number>, url: string): Promise<CheckResult[]> {
  const checks: CheckResult[] = [];
  const count = Object.keys(tables).length;
  const { minTables, requireRows } = d.drill;
  if (minTables !== undefined) checks.push({ name: `at least ${minTables} tables`, ok: count >= minTables, detail: `${count} restored` });
  for (const table of requireRows) {
    const rows = tables[table.includes('.') ? table : `public.${table}`];
    checks.push({
      name: `rows in ${table}`,
      ok: (rows ?? 0) > 0,
      detail: rows === undefined ? 'no such table in the restored copy' : `${rows} rows`,
    });
  }
  checks.push(...(await runChecks(d.drill.checks, { databaseUrl: url, databaseUrlVar: 'the scratch copy', heartbeat: beat })));
  return checks;
}

/** `{ 'public.entries': 'rows=20 md5=…' }` → `{ 'public.entries': 20 }`. */
export function rowCounts(checksums: Record<string, string>): Record<string, number> {
  return Object.fromEntries(Object.entries(checksums).map(([t, v]) => [t, Number(/^rows=(\d+)/.exec(v)?.[1] ?? NaN)]));
}
