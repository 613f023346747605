// The private PostgreSQL cluster a PostgreSQL-backed Temporal server keeps its state in.
// Unlike the scratch cluster (src/lib/scratch-cluster.ts), it outlives a stop: a
// second start on the same directory starts the same data again, on the same port. Trust
// auth on 127.0.0.1 with the socket inside its own directory: nothing off this host can
// reach it. As root, initdb and postgres run as the OS user `postgres`; when that user
// cannot enter the directory asked for (a checkout in root's 0700 home, say), the data
// lives under the system temporary directory instead and the directory holds a pointer.
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { firstBlockingDirectory, freeLoopbackPort, postgresOsUser, type OsUser } from './lib/scratch-cluster';
import { pgTool } from './lib/pg-tools';

export interface TemporalPostgresCluster {
  host: string;
  port: number;
  user: string;
  /** Where the cluster's files are (the data directory is `data/` inside). */
  home: string;
  /** Stops the server (fast shutdown: clean, the data stays). */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const POINTER = 'postgres-location';

/** Starts the cluster kept in `dir` (created on the first start). `fast` turns fsync off:
 * for tests, where the data need not survive a power cut. */
export async function startTemporalPostgresCluster(dir: string, opts: { fast?: boolean } = {}): Promise<TemporalPostgresCluster> {
  const asUser = await postgresOsUser();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const home = clusterHome(path.resolve(dir), asUser);
  const dataDir = path.join(home, 'data');
  const portFile = path.join(home, 'port');
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await execa(pgTool('initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8'], { ...asUser, stdin: 'ignore' });
  }
  const port = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : await freeLoopbackPort();
  writeFileSync(portFile, `${port}\n`);
  const settings = [
    `-p ${port}`,
    `-k ${home}`,
    '-c listen_addresses=127.0.0.1',
    ...(opts.fast ? ['-c fsync=off', '-c full_page_writes=off'] : []),
  ];
  const status = await execa(pgTool('pg_ctl'), ['-D', dataDir, 'status'], { ...asUser, reject: false, stdin: 'ignore' });
  if (status.exitCode !== 0) {
    await execa(
      pgTool('pg_ctl'),
      ['-D', dataDir, '-l', path.join(home, 'server.log'), '-w', '-t', '60', 'start', '-o', settings.join(' ')],
      {
        ...asUser,
        stdin: 'ignore',
      },
    );
  }
  return {
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    home,
    stop: async () => {
      await execa(pgTool('pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { ...asUser, reject: false, stdin: 'ignore' });
    },
  };
}

/** `dir/postgres` when the server's OS user can reach it, else a directory of that user's
 * under the temporary directory, named from `dir` so the next start finds it again. */
function clusterHome(dir: string, asUser: OsUser): string {
  const inside = path.join(dir, 'postgres');
  const pointer = path.join(dir, POINTER);
  const { uid, gid } = asUser;
  if (existsSync(pointer)) {
    const relocated = readFileSync(pointer, 'utf8').trim();
    // The temporary directory may have been cleaned since: start afresh there.
    if (!existsSync(relocated) && uid !== undefined && gid !== undefined) {
      mkdirSync(relocated, { recursive: true, mode: 0o700 });
      chownSync(relocated, uid, gid);
    }
    return relocated;
  }
  if (uid === undefined || gid === undefined || firstBlockingDirectory(dir, uid, gid) === undefined) {
    mkdirSync(inside, { recursive: true, mode: 0o700 });
    if (uid !== undefined && gid !== undefined) chownSync(inside, uid, gid);
    return inside;
  }
  const home = path.join(os.tmpdir(), `day2-temporal-pg-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  if (firstBlockingDirectory(os.tmpdir(), uid, gid) !== undefined) {
    throw new Error(
      `PostgreSQL's OS user '${SUPERUSER}' can reach neither ${dir} nor ${os.tmpdir()}: set TMPDIR to a directory it can enter and write.`,
    );
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, uid, gid);
  writeFileSync(pointer, `${home}\n`, { mode: 0o600 });
  return home;
}

/** Removes a stopped cluster's files: `dir` and, when they were relocated, that directory. */
export function removeTemporalPostgresData(dir: string): void {
  const pointer = path.join(dir, POINTER);
  if (existsSync(pointer)) rmSync(readFileSync(pointer, 'utf8').trim(), { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
