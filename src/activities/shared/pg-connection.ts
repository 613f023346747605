// Where a deployment's database is and how to reach it. The URLs come from the deployment's
// env file on every call (a secret rotation may have changed them) and never leave the
// activity: logs and errors name only `database@host`.
import pg from 'pg';
import { ConfigError } from '../../config';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError, DatabaseLoginError, DatabaseUnreachableError } from '../../domain/errors';
import { readEnvFile } from '../../envfile';
import { composeExecOf, containerAddress, withHost, type ComposeExec } from './compose-database';

export interface DatabaseTarget {
  /** URL of the live database, as the service uses it. */
  liveUrl: string;
  /** Name of the live database (the path of the URL). */
  liveName: string;
  /** The live database with owner-level credentials (the migration URL's, if set): dumps
   * and restores use it, so they see and own every object the migrations created. */
  ownerLiveUrl: string;
  /** Owner-level credentials (the migration URL if set, else the database URL), pointed at
   * the maintenance database `postgres`: CREATE/ALTER/DROP DATABASE run from here. */
  adminUrl: string;
  /** `ledger@db.internal:5432`: what logs and messages may show. */
  label: string;
  /** runtime.databaseVia exec: PostgreSQL's programs run inside the compose database
   * service, and the URLs above name its container's address (compose-database.ts). */
  exec?: DatabaseExec;
}

export interface DatabaseExec {
  via: ComposeExec;
  /** The container's address: the host of the URLs above, for node-pg. */
  address: string;
  /** The host the env file's URL names (`postgres`): the programs inside compose connect
   * there, the way the service does. */
  serviceHost: string;
}

export async function databaseTargetOf(d: DeploymentConfig): Promise<DatabaseTarget> {
  const env = await readEnvFile(d.envFile);
  const liveUrl = env.get(d.databaseUrlVar);
  if (!liveUrl) throw new ConfigError(`${d.databaseUrlVar} is not set in ${d.envFile}`);
  const liveName = databaseNameOf(liveUrl, d.databaseUrlVar);
  const ownerUrl = env.get(d.migrationUrlVar) || liveUrl;
  const target = {
    liveUrl,
    liveName,
    ownerLiveUrl: withDatabase(ownerUrl, liveName),
    adminUrl: withDatabase(ownerUrl, 'postgres'),
    label: `${liveName}@${hostOf(liveUrl)}`,
  };
  const via = composeExecOf(d);
  if (!via) return target;
  const address = await containerAddress(via);
  return {
    ...target,
    liveUrl: withHost(target.liveUrl, address),
    ownerLiveUrl: withHost(target.ownerLiveUrl, address),
    adminUrl: withHost(target.adminUrl, address),
    exec: { via, address, serviceHost: new URL(ownerUrl).hostname },
  };
}

/** The URL sql checks connect with (a gate's, verify, preflight): the env file's, or for a
 * database reached inside compose its container's address. Undefined when it cannot be
 * found (the sql checks then fail and say so; the other checks still run); `why` hears
 * what went wrong, never the URL. */
export async function sqlCheckUrlOf(d: DeploymentConfig, why: (problem: string) => void): Promise<string | undefined> {
  if (composeExecOf(d)) {
    return databaseTargetOf(d).then(
      (target) => target.liveUrl,
      (err: Error) => void why(`database service not found: ${err.message}`),
    );
  }
  return readEnvFile(d.envFile).then(
    (env) => env.get(d.databaseUrlVar) || undefined,
    (err: Error) => void why(`env file unreadable: ${err.message}`),
  );
}

/** The URL a program inside the compose service connects with: the service's own host
 * name in place of the container address node-pg uses. */
export function programUrl(url: string, exec: DatabaseExec | undefined): string {
  if (!exec) return url;
  const u = new URL(url);
  u.hostname = exec.serviceHost;
  return u.toString();
}

/** The live database's name alone: no connection, and no lookup of a compose service (a
 * DR drill restores elsewhere and needs only the name). */
export async function liveDatabaseNameOf(d: DeploymentConfig): Promise<string> {
  const liveUrl = (await readEnvFile(d.envFile)).get(d.databaseUrlVar);
  if (!liveUrl) throw new ConfigError(`${d.databaseUrlVar} is not set in ${d.envFile}`);
  return databaseNameOf(liveUrl, d.databaseUrlVar);
}

export function databaseNameOf(url: string, variable = 'database URL'): string {
  let name: string;
  try {
    name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  } catch {
    throw new ConfigError(`${variable} is not a valid URL`);
  }
  if (!name) throw new ConfigError(`${variable} names no database (expected postgres://user@host:port/<database>)`);
  return name;
}

export function hostOf(url: string): string {
  const u = new URL(url);
  return u.host || u.searchParams.get('host') || 'localhost';
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** libpq takes the URL without its password on argv (visible in `ps`) and the password
 * in PGPASSWORD (visible only to the same user). */
export function libpqArgs(url: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'day2' });
  // An idle client's socket error would otherwise be an unhandled 'error' event.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** PostgreSQL silently truncates identifiers past 63 bytes, which would make a rename land
 * on a name we then fail to find: refuse such names up front. */
export function assertDatabaseName(name: string, what: string): string {
  if (!name || Buffer.byteLength(name) > 63 || /[\0]/.test(name)) {
    throw new BadInputError(`${what} '${name}' is not a usable database name (1–63 bytes)`);
  }
  return name;
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (rowCount ?? 0) > 0;
}

/** SQLSTATE of a failed query, for telling "permission denied" from the rest. */
export function sqlState(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
]);
/** SQLSTATEs of a server that answered but will not let us in. */
const LOGIN_REFUSED = new Map([
  ['28P01', 'wrong password'],
  ['28000', 'login refused'],
  ['3D000', 'no such database'],
  ['42501', 'no CONNECT privilege'],
]);
/** SQLSTATEs of a server that is there but cannot take us right now. */
const NOT_NOW = new Set(['57P03', '53300']);

/**
 * Connects to `url` and runs `select 1`, before an operation touches anything (the first
 * database step of backup and restore). Turns the failure into one an operator can act on:
 * DatabaseUnreachableError (nobody answered; retried by the activity's policy, since a
 * database restarting for a few seconds is not a misconfiguration) or DatabaseLoginError
 * (the server refused the login; not retried). Both say where to look, never the URL.
 */
export async function probeDatabase(url: string, label: string, where: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'day2', connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw classifyConnectError(err, label, where);
  } finally {
    await client.end().catch(() => {});
  }
}

export function classifyConnectError(err: unknown, label: string, where: string): Error {
  const code = sqlState(err);
  const message = (err as Error)?.message ?? String(err);
  const refused = code ? LOGIN_REFUSED.get(code) : undefined;
  if (refused) {
    return new DatabaseLoginError(`the database ${label} refused day2 (${refused}: ${message}) — check ${where}; nothing was changed`);
  }
  if ((code && (UNREACHABLE_CODES.has(code) || NOT_NOW.has(code))) || /timeout|terminated unexpectedly/i.test(message)) {
    const why = code && UNREACHABLE_CODES.has(code) ? code : message;
    return new DatabaseUnreachableError(
      `cannot reach the database ${label} (${why}) — is it running, and is ${where} right? nothing was changed`,
    );
  }
  return err instanceof Error ? err : new Error(message);
}
