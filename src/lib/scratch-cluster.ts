// A throwaway PostgreSQL cluster: initdb into a directory of its own, started on a free
// loopback port with its socket inside that directory and trust auth, so nothing outside
// this machine can reach it. The DR drill restores into one, far from the deployment's
// server; the tests and the demo run on one. initdb and postgres refuse to run as root:
// as root they run as the OS user `postgres` (present wherever Debian's server package
// is), which is handed the directory. That user must be able to enter every directory
// above it: a checkout in root's home (0700) or in a `mktemp -d` is not, so there the data
// lives in a directory of that user's own under the system temporary directory, and the
// directory asked for holds only a pointer to it (so a crashed run's cluster is still found
// and removed by the name it was asked for).
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { pgTool } from './pg-tools';

export interface ScratchCluster {
  dir: string;
  port: number;
  /** Superuser URL of the maintenance database `postgres`. */
  adminUrl: string;
  /** Stops the server (fast, no checkpoint) and removes the directory. */
  remove(): Promise<void>;
}

const SUPERUSER = 'postgres';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Creates and starts a cluster in `dir` (which must not exist yet). */
export async function startScratchCluster(dir: string): Promise<ScratchCluster> {
  const port = await freeLoopbackPort();
  const asUser = await postgresOsUser();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const home = clusterHome(dir, asUser);
  const cluster: ScratchCluster = {
    dir: home,
    port,
    adminUrl: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    remove: () => removeScratchCluster(dir),
  };
  const dataDir = path.join(home, 'data');
  try {
    await execa(pgTool('initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      ...asUser,
      stdin: 'ignore',
    });
    await execa(
      pgTool('pg_ctl'),
      [
        '-D',
        dataDir,
        '-l',
        path.join(home, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
        '-o',
        `-p ${port} -k ${home} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
      ],
      { ...asUser, stdin: 'ignore' },
    );
  } catch (err) {
    await cluster.remove();
    throw err;
  }
  return cluster;
}

/** The file in a requested directory that names where its cluster really lives. */
const POINTER = 'cluster-location';

/** Where the server's files go: `dir` itself when the server's OS user can reach it,
 * else a fresh directory of that user's under the system temporary directory. */
function clusterHome(dir: string, asUser: OsUser): string {
  if (asUser.uid === undefined || asUser.gid === undefined) return dir;
  const { uid, gid } = asUser;
  if (firstBlockingDirectory(path.dirname(dir), uid, gid) === undefined) {
    chownSync(dir, uid, gid);
    return dir;
  }
  const base = [os.tmpdir(), '/tmp'].find(
    (d) => existsSync(d) && firstBlockingDirectory(d, uid, gid) === undefined && writableBy(d, uid, gid),
  );
  if (!base) {
    const blocking = firstBlockingDirectory(path.dirname(dir), uid, gid);
    throw new Error(
      `PostgreSQL's OS user '${SUPERUSER}' cannot enter ${blocking} (mode ${modeOf(blocking!)}), which holds ${dir}, and no temporary ` +
        `directory it can reach was found (tried ${os.tmpdir()} and /tmp): set TMPDIR to a directory that user can enter and write, ` +
        `or allow it through with 'chmod o+x ${blocking}'. Nothing was started.`,
    );
  }
  const home = mkdtempSync(path.join(base, `day2-pg-${path.basename(dir)}-`));
  chownSync(home, uid, gid);
  writeFileSync(path.join(dir, POINTER), `${home}\n`, { mode: 0o600 });
  return home;
}

/** Stops a cluster left in `dir` (by a crashed run, say) and removes the directory (and
 * the relocated one it points to); a no-op when there is none. */
export async function removeScratchCluster(dir: string): Promise<void> {
  const pointer = path.join(dir, POINTER);
  const home = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : dir;
  const dataDir = path.join(home, 'data');
  if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    await execa(pgTool('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], {
      ...(await postgresOsUser()),
      reject: false,
      stdin: 'ignore',
    });
  }
  if (home !== dir) rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

export interface OsUser {
  uid?: number;
  gid?: number;
}

/** As root, the OS user PostgreSQL's programs must run as (initdb refuses root); else none. */
export async function postgresOsUser(): Promise<OsUser> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number((await execa('id', [flag, SUPERUSER])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error(
      `running as root, and there is no OS user '${SUPERUSER}' to run PostgreSQL as (initdb refuses root): create that user, or run day2 as another user`,
    );
  }
}

/** The first directory from / down to `dir` that `uid` may not enter (search permission,
 * judged from the owner, group and other bits; supplementary groups are not consulted, so
 * this errs towards relocating), or undefined when it can reach `dir`. */
export function firstBlockingDirectory(dir: string, uid: number, gid: number): string | undefined {
  const absolute = path.resolve(dir);
  const parts = absolute.split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const current = path.sep + parts.slice(0, i).join(path.sep);
    if (!permits(current, uid, gid, 0o1)) return current;
  }
  return undefined;
}

function writableBy(dir: string, uid: number, gid: number): boolean {
  return permits(dir, uid, gid, 0o2);
}

/** Whether `uid`/`gid` holds permission `bit` (1 = x, 2 = w, 4 = r) on `file`. */
function permits(file: string, uid: number, gid: number, bit: number): boolean {
  const st = statSync(file);
  if (uid === 0) return true;
  if (st.uid === uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === gid) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

function modeOf(file: string): string {
  return (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');
}
