// A private PostgreSQL cluster for tests and the demo: initdb into a temporary directory,
// pg_ctl start on a free port, trust auth on loopback only. Never touches the machine's
// own cluster. If DAY2_TEST_PG_ADMIN_URL is set, that server is used instead.
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { pgTool } from '../../src/activities/pg-tools';
import { freePort } from './free-port';

export interface PostgresCluster {
  /** URL of the maintenance database `postgres` as superuser. */
  adminUrl: string;
  port: number;
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

  const dir = mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'day2-pg-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const user = 'postgres';
  // initdb and postgres refuse to run as root: run them as the OS user `postgres`
  // (present wherever Debian's server package is) and hand it the directory.
  const asUser: { uid?: number; gid?: number } = process.getuid?.() === 0 ? await osUser('postgres') : {};
  if (asUser.uid !== undefined && asUser.gid !== undefined) chownSync(dir, asUser.uid, asUser.gid);
  await execa(pgTool('initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync'], asUser);
  await execa(
    pgTool('pg_ctl'),
    ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`],
    asUser,
  );
  const adminUrl = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return clusterAt(adminUrl, async () => {
    await execa(pgTool('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], {
      reject: false,
      ...asUser,
    });
    rmSync(dir, { recursive: true, force: true });
  });
}

async function osUser(name: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execa('id', ['-u', name])).stdout.trim());
  const gid = Number((await execa('id', ['-g', name])).stdout.trim());
  return { uid, gid };
}

function clusterAt(adminUrl: string, stop: () => Promise<void>): PostgresCluster {
  return {
    adminUrl,
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
