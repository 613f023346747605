// A private PostgreSQL cluster for tests and the demo (the DR drill's scratch cluster, kept
// for the whole run). Never touches the machine's own cluster. If DAY2_TEST_PG_ADMIN_URL is
// set, that server is used instead.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startScratchCluster } from '../../src/lib/scratch-cluster';

export interface PostgresCluster {
  /** URL of the maintenance database `postgres` as superuser. */
  adminUrl: string;
  port: number;
  /** The private cluster's data directory (undefined for DAY2_TEST_PG_ADMIN_URL's server). */
  dataDir?: string;
  /** URL of database `name` on this cluster. */
  urlFor(name: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function startPostgres(opts: { baseDir?: string } = {}): Promise<PostgresCluster> {
  const external = process.env.DAY2_TEST_PG_ADMIN_URL;
  if (external) return clusterAt(external, async () => {});

  const cluster = await startScratchCluster(mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'day2-pg-')));
  return clusterAt(cluster.adminUrl, cluster.remove, path.join(cluster.dir, 'data'));
}

function clusterAt(adminUrl: string, stop: () => Promise<void>, dataDir?: string): PostgresCluster {
  return {
    adminUrl,
    dataDir,
    port: Number(new URL(adminUrl).port),
    urlFor: (name) => withDatabase(adminUrl, name),
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return withDatabase(adminUrl, name);
    },
    stop,
  };
}
