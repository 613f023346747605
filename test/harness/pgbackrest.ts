// The e2e fixture of backup.method pgbackrest: the usual ledger deployment on its own
// private cluster (tests own it: a restore stops and swaps its data directory), configured
// for pgBackRest with a repository beside the cluster, and helpers to write rows at known
// times and read the repository.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '../../src/config';
import { ensurePgbackrest } from '../../scripts/ensure-tools';
import { repoState } from '../../src/activities/pgbackrest/info';
import { withClient } from '../../src/activities/shared/pg-connection';
import type { PgbackrestConfig, PgbackrestRepoState } from '../../src/domain/pgbackrest';
import { startE2E, type E2E } from './e2e';

export interface PgbackrestE2E extends E2E {
  pgbr: PgbackrestConfig;
  /** The deployment's own database, as superuser. */
  dbUrl: string;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  repo(): Promise<PgbackrestRepoState>;
}

/** `offsite`: a backup.offsite block (for `repo: offsite`). */
export async function startPgbackrestE2E(
  name: string,
  pgbr: Partial<PgbackrestConfig> = {},
  opts: { offsite?: Record<string, unknown> } = {},
): Promise<PgbackrestE2E> {
  await ensurePgbackrest();
  // Never the runner's shared server (DAY2_TEST_PG_ADMIN_URL): a restore stops and swaps
  // the cluster's data directory, so this file starts a cluster of its own.
  const shared = process.env.DAY2_TEST_PG_ADMIN_URL;
  delete process.env.DAY2_TEST_PG_ADMIN_URL;
  const e2e = await startE2E(name).finally(() => {
    if (shared !== undefined) process.env.DAY2_TEST_PG_ADMIN_URL = shared;
  });
  const dataDir = e2e.pg.dataDir;
  if (!dataDir) throw new Error('pgBackRest tests need a PostgreSQL cluster of their own');
  const raw = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8')) as {
    deployments: Record<string, { backup: Record<string, unknown> }>;
  };
  const config = {
    stanza: name,
    repoPath: path.join(path.dirname(dataDir), 'repo'),
    dataDir,
    retentionFull: 2,
    archiveTimeout: 10,
    processMax: 2,
    ...pgbr,
  };
  raw.deployments[name]!.backup = {
    ...raw.deployments[name]!.backup,
    method: 'pgbackrest',
    pgbackrest: config,
    ...(opts.offsite ? { offsite: opts.offsite } : {}),
  };
  writeFileSync(e2e.deployment.configFile, YAML.stringify(raw));
  e2e.config = loadConfig(e2e.deployment.configFile);
  const full = e2e.config.deployments[name]!.backup.pgbackrest!;
  const dbUrl = e2e.deployment.databaseUrl;
  return Object.assign(e2e, {
    pgbr: full,
    dbUrl,
    sql: <T>(query: string, params: unknown[] = []) => withClient(dbUrl, async (c) => (await c.query(query, params)).rows as T[]),
    repo: () => repoState(full),
  });
}
