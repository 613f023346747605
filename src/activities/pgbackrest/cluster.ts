// The database server day2 may configure: it must be on the worker's host (its data
// directory here), reached as a superuser (ALTER SYSTEM), and be the server DATABASE_URL
// points at. Anything else — a managed service, a read-only login, another server's data
// directory — is refused before anything is changed, saying what is missing. Also stops
// and starts the cluster with pg_ctl as its OS user.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError } from '../../domain/errors';
import type { ClusterFacts, PgbackrestConfig } from '../../domain/pgbackrest';
import { databaseTargetOf, withClient } from '../shared/pg-connection';
import { pgTool } from '../../lib/pg-tools';
import { clusterOwner } from './run';

export function pgbackrestOf(d: DeploymentConfig, deployment: string): PgbackrestConfig {
  const c = d.backup.method === 'pgbackrest' ? d.backup.pgbackrest : undefined;
  if (!c)
    throw new BadInputError(
      `deployment ${deployment} does not use backup.method pgbackrest`,
      'set backup.method: pgbackrest and backup.pgbackrest { stanza, repoPath, dataDir } in day2.yaml',
    );
  return c;
}

/** Reads the server's settings through the deployment's owner login and checks day2 may configure it. */
export async function inspectCluster(d: DeploymentConfig, c: PgbackrestConfig): Promise<ClusterFacts> {
  const { adminUrl, label } = await databaseTargetOf(d);
  const needs =
    "backup.method pgbackrest needs a server on the worker's host that day2 may reconfigure: a superuser login (DATABASE_URL_MIGRATE or DATABASE_URL) and its data directory as backup.pgbackrest.dataDir; for a managed database use backup.method pg_dump and the provider's point-in-time recovery";
  const facts = await withClient(adminUrl, async (client) => {
    const su = await client.query<{ superuser: string }>(
      'SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)::text AS superuser',
    );
    if (su.rows[0]?.superuser !== 'true') return { superuser: 'false' } as Record<string, string>;
    const { rows } = await client.query<Record<string, string>>(
      `SELECT 'true' AS superuser,
              current_setting('data_directory') AS data_directory, current_setting('port') AS port,
              current_setting('unix_socket_directories') AS sockets, current_setting('archive_mode') AS archive_mode,
              current_setting('archive_command') AS archive_command, current_setting('archive_timeout') AS archive_timeout,
              current_setting('wal_level') AS wal_level, (SELECT system_identifier::text FROM pg_control_system()) AS system_id,
              (SELECT coalesce(string_agg(name, ','), '') FROM pg_settings WHERE pending_restart) AS pending`,
    );
    return rows[0]!;
  });
  if (facts.superuser !== 'true')
    throw new BadInputError(
      `the login day2 uses for ${label} is not a superuser, so day2 may not set archive_mode and archive_command`,
      needs,
    );
  if (!existsSync(path.join(c.dataDir, 'PG_VERSION')))
    throw new BadInputError(`${c.dataDir} (backup.pgbackrest.dataDir) is not a PostgreSQL data directory on the worker's host`, needs);
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  if (real(facts.data_directory!) !== real(c.dataDir)) {
    throw new BadInputError(
      `${label} runs from data directory ${facts.data_directory}, not ${c.dataDir} (backup.pgbackrest.dataDir)`,
      needs,
    );
  }
  const socket =
    c.socketPath ??
    facts
      .sockets!.split(',')
      .map((s) => s.trim())
      .find(Boolean);
  if (!socket)
    throw new BadInputError(
      `${label} listens on no Unix socket, which pgBackRest connects through`,
      'set unix_socket_directories, or backup.pgbackrest.socketPath',
    );
  return {
    dataDir: c.dataDir,
    port: c.pgPort ?? Number(facts.port),
    socketPath: socket,
    archiveMode: facts.archive_mode!,
    archiveCommand: facts.archive_command!,
    archiveTimeout: Number.parseInt(facts.archive_timeout!, 10) || 0,
    walLevel: facts.wal_level!,
    systemId: facts.system_id!,
    pendingRestart: facts.pending ? facts.pending.split(',') : [],
  };
}

const pgCtl = (dataDir: string, args: string[], reject = true) =>
  execa(pgTool('pg_ctl'), ['-D', dataDir, ...args], { ...clusterOwner(dataDir), cwd: '/', stdin: 'ignore', reject, all: true });

export async function clusterRunning(dataDir: string): Promise<boolean> {
  return existsSync(path.join(dataDir, 'postmaster.pid')) && (await pgCtl(dataDir, ['status'], false)).exitCode === 0;
}

/** Fast shutdown (a checkpoint, every session ended); a no-op when it is not running. */
export async function stopCluster(dataDir: string): Promise<void> {
  if (!(await clusterRunning(dataDir))) return;
  await pgCtl(dataDir, ['-m', 'fast', '-w', '-t', '300', 'stop']);
}

/** Starts the cluster with the options it last ran with (postmaster.opts: port, socket
 * directory, -c settings), as `pg_ctl restart` does; a no-op when it runs. */
export async function startClusterAsBefore(dataDir: string, serverLog: string): Promise<void> {
  if (await clusterRunning(dataDir)) return;
  const r = await pgCtl(dataDir, ['-l', serverLog, '-w', '-t', '600', 'restart'], false);
  if (r.exitCode !== 0) throw new Error(`pg_ctl could not start ${dataDir} (exit ${r.exitCode}): ${logTail(serverLog)} — see ${serverLog}`);
}

/** Starts a restored copy on a private port and socket, WAL archiving off: it must never
 * push to the repository (it is not the live cluster). */
export async function startClusterPrivately(
  dataDir: string,
  port: number,
  socketDir: string,
  serverLog: string,
  extra: string[] = [],
): Promise<void> {
  const opts = [`-p ${port}`, `-k ${socketDir}`, '-c listen_addresses=127.0.0.1', '-c archive_mode=off', ...extra].join(' ');
  const r = await pgCtl(dataDir, ['-l', serverLog, '-w', '-t', '600', '-o', opts, 'start'], false);
  if (r.exitCode !== 0)
    throw new Error(`pg_ctl could not start the restored copy ${dataDir} (exit ${r.exitCode}): ${logTail(serverLog)} — see ${serverLog}`);
}

/** The server's last complaints (FATAL/PANIC/ERROR lines, else its last lines). */
export function logTail(file: string): string {
  if (!existsSync(file)) return 'no server log';
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(-40);
  const bad = lines.filter((l) => /FATAL|PANIC|ERROR/.test(l));
  return (bad.length ? bad.slice(-3) : lines.slice(-3)).join(' | ');
}

export const serverLogOf = (c: PgbackrestConfig) => c.serverLog ?? path.join(path.dirname(c.dataDir), 'server.log');
