// preflight.sh's checks, built in: they hold for every deployment, so nobody has to
// configure them. The env file has every variable the service needs (and, when
// `envExample` is set, every one its .env.example lists); the version file agrees with the
// env file; the database answers; pg_dump can dump that server; the backup directory can
// take a backup. Each result is one line an operator can act on, naming variables and
// `database@host`, never a value or a URL.
import { constants } from 'node:fs';
import { access, readFile, stat, statfs } from 'node:fs/promises';
import { execa } from 'execa';
import type { DeploymentConfig } from '../../domain/config-schema';
import { formatBytes } from '../../domain/human-bytes';
import type { CheckResult } from '../../domain/types';
import { PRIVATE_DIR_MODE } from '../shared/backup-files';
import { parseEnvFile, readEnvFile } from '../../envfile';
import { keptCopiesCheck } from '../database/kept-copies';
import { classifyConnectError, databaseTargetOf, withClient } from '../shared/pg-connection';
import { compressionArgs } from '../../domain/dump-compression';
import { pgTool } from '../../lib/pg-tools';
import { composeExecOf } from '../shared/compose-database';
import { pgProgramMajor } from '../shared/pg-programs';
import { pgbackrestPreflightChecks } from '../pgbackrest/preflight';

interface ServerFacts {
  major: number;
  version: string;
  sizeBytes: number;
}

/** Every built-in check, in an order where a later one can use what an earlier one learnt. */
export async function builtinPreflightChecks(d: DeploymentConfig, deployment?: string): Promise<CheckResult[]> {
  const env = await readEnvFile(d.envFile).catch((err: Error) => err);
  const results: CheckResult[] = [await envVariablesCheck(d, env)];
  if (d.versionFile) results.push(await versionFileCheck(d, d.versionFile, env));
  const { result, server } = await databaseCheck(d);
  results.push(result, await pgDumpCheck(d, server), await backupDirCheck(d, server));
  if (server) results.push(...(await pgbackrestPreflightChecks(d)));
  // Counting needs the server; a role that cannot look is a warning, never a failure.
  if (server && deployment) {
    results.push(
      await keptCopiesCheck(d, deployment).catch((err: Error) => ({
        name: 'kept copies of replaced data',
        ok: true,
        warning: true,
        detail: `cannot count them: ${err.message}`,
      })),
    );
  }
  return results;
}

type EnvOrError = Map<string, string> | Error;

async function envVariablesCheck(d: DeploymentConfig, env: EnvOrError): Promise<CheckResult> {
  const name = 'env file has the required variables';
  if (env instanceof Error) return { name, ok: false, detail: env.message };
  const required = new Set([d.databaseUrlVar, d.versionVar]);
  if (d.envExample) {
    let example: string;
    try {
      example = await readFile(d.envExample, 'utf8');
    } catch (err) {
      return {
        name,
        ok: false,
        detail: `cannot read envExample ${d.envExample}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      };
    }
    // Commented-out lines are the example's optional variables; deprecated ones are
    // commented out by the upgrade itself, so they cannot be required.
    for (const variable of parseEnvFile(example).names()) if (!d.deprecatedVars.includes(variable)) required.add(variable);
  }
  const missing = [...required].filter((v) => !env.get(v));
  const against = d.envExample ? ` (${d.envFile} against ${d.envExample})` : ` in ${d.envFile}`;
  if (missing.length)
    return { name, ok: false, detail: `missing or empty: ${missing.join(', ')}${against} — add them, then run preflight again` };
  return { name, ok: true, detail: `${required.size} required variables set${against}` };
}

async function versionFileCheck(d: DeploymentConfig, versionFile: string, env: EnvOrError): Promise<CheckResult> {
  const name = 'version file agrees with the env file';
  const fromEnv = env instanceof Error ? undefined : env.get(d.versionVar);
  let fromFile: string;
  try {
    fromFile = (await readFile(versionFile, 'utf8')).trim();
  } catch (err) {
    return { name, ok: false, detail: `cannot read ${versionFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (!fromEnv)
    return { name, ok: false, detail: `${d.versionVar} is not set in ${d.envFile}; ${versionFile} says ${fromFile || '(empty)'}` };
  if (fromEnv !== fromFile) {
    return {
      name,
      ok: false,
      detail: `${d.versionVar}=${fromEnv} but ${versionFile} says ${fromFile || '(empty)'} — set both to the release that runs`,
    };
  }
  return { name, ok: true, detail: `both say ${fromEnv}` };
}

async function databaseCheck(d: DeploymentConfig): Promise<{ result: CheckResult; server?: ServerFacts }> {
  const name = 'database reachable';
  let target;
  try {
    target = await databaseTargetOf(d);
  } catch (err) {
    return { result: { name, ok: false, detail: (err as Error).message } };
  }
  try {
    const server = await withClient(target.liveUrl, async (client) => {
      const { rows } = await client.query<{ num: string; version: string; size: string }>(
        "select current_setting('server_version_num') as num, current_setting('server_version') as version, pg_database_size(current_database()) as size",
      );
      const row = rows[0]!;
      return { major: Math.floor(Number(row.num) / 10000), version: row.version.split(' ')[0]!, sizeBytes: Number(row.size) };
    });
    return {
      result: { name, ok: true, detail: `${target.label}: PostgreSQL ${server.version}, ${formatBytes(server.sizeBytes)}` },
      server,
    };
  } catch (err) {
    const where = `${d.databaseUrlVar} in ${d.envFile}`;
    return { result: { name, ok: false, detail: classifyConnectError(err, target.label, where).message } };
  }
}

/** pg_dump refuses a server newer than itself, and backup.compression may name a method it
 * lacks: found out at preflight, not at 2 a.m. (nor in a restore's safety dump). */
async function pgDumpCheck(d: DeploymentConfig, server: ServerFacts | undefined): Promise<CheckResult> {
  const name = 'pg_dump can dump the server';
  let line: string;
  try {
    // A database reached inside compose is dumped by the database service's own pg_dump.
    const via = composeExecOf(d);
    line = via
      ? (await pgProgramMajor('pg_dump', via)).line
      : (await execa(pgTool('pg_dump'), ['--version'], { stdin: 'ignore' })).stdout.trim();
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n')[0]! };
  }
  const major = Number(/(\d+)(?:\.\d+)?/.exec(line)?.[1]);
  if (!server) return { name, ok: false, detail: `${line}; the server's version is unknown (database unreachable)` };
  if (!(major >= server.major)) {
    return {
      name,
      ok: false,
      detail: composeExecOf(d)
        ? `${line} is older than the server (PostgreSQL ${server.version}): the database service's image needs PostgreSQL ${server.major}'s tools`
        : `${line} is older than the server (PostgreSQL ${server.version}): install PostgreSQL ${server.major}'s client tools or set PG_BIN_DIR`,
    };
  }
  try {
    compressionArgs(d.backup.compression, major);
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message };
  }
  return { name, ok: true, detail: `${line}, server ${server.version}` };
}

/** Writable, with room for a dump (at most the database's size: pg_dump compresses; twice
 * that for backup.format directory). */
async function backupDirCheck(d: DeploymentConfig, server: ServerFacts | undefined): Promise<CheckResult> {
  const name = 'backup directory can take a backup';
  const dir = d.backup.dir;
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    if (info.code !== 'ENOENT') return { name, ok: false, detail: `cannot read ${dir}: ${info.code ?? info.message}` };
    return { name, ok: true, detail: `${dir} does not exist yet: the first backup creates it (mode 0700)` };
  }
  if (!info.isDirectory()) return { name, ok: false, detail: `${dir} is not a directory` };
  const writable = await access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return { name, ok: false, detail: `${dir} is not writable by the worker's user` };
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const mode = info.mode & 0o777;
  const modeNote = mode === PRIVATE_DIR_MODE ? '' : `; mode 0${mode.toString(8)} lets others read backups (chmod 700 ${dir})`;
  // backup.format directory holds the dump twice for a moment: its directory and the tar.
  const copies = d.backup.format === 'directory' ? 2 : 1;
  if (server && free < copies * server.sizeBytes) {
    const twice = copies === 2 ? ' (a directory-format backup needs room for its dump twice while it is packed)' : '';
    return {
      name,
      ok: false,
      detail: `${formatBytes(free)} free in ${dir}, the database is ${formatBytes(server.sizeBytes)}${twice}: free some space or move backup.dir`,
    };
  }
  return { name, ok: true, detail: `${formatBytes(free)} free in ${dir}${modeNote}` };
}

export { formatBytes };
