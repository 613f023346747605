// A throwaway PostgreSQL cluster: initdb into a directory of its own, started on a free
// loopback port with its socket inside that directory and trust auth, so nothing outside
// this machine can reach it. The DR drill restores into one, far from the deployment's
// server; the tests and the demo run on one. initdb and postgres refuse to run as root:
// as root they run as the OS user `postgres` (present wherever Debian's server package
// is), which is handed the directory.
import { chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
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
  const dataDir = path.join(dir, 'data');
  const port = await freeLoopbackPort();
  const asUser = await runAs();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (asUser.uid !== undefined && asUser.gid !== undefined) chownSync(dir, asUser.uid, asUser.gid);
  const cluster: ScratchCluster = {
    dir,
    port,
    adminUrl: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    remove: () => removeScratchCluster(dir),
  };
  try {
    await execa(pgTool('initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync'], { ...asUser, stdin: 'ignore' });
    await execa(
      pgTool('pg_ctl'),
      ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start',
        '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`],
      { ...asUser, stdin: 'ignore' },
    );
  } catch (err) {
    await cluster.remove();
    throw err;
  }
  return cluster;
}

/** Stops a cluster left in `dir` (by a crashed run, say) and removes the directory; a
 * no-op when there is none. */
export async function removeScratchCluster(dir: string): Promise<void> {
  const dataDir = path.join(dir, 'data');
  if (existsSync(path.join(dataDir, 'postmaster.pid'))) {
    await execa(pgTool('pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { ...(await runAs()), reject: false, stdin: 'ignore' });
  }
  rmSync(dir, { recursive: true, force: true });
}

async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number((await execa('id', [flag, SUPERUSER])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new Error(`running as root, and there is no OS user '${SUPERUSER}' to run a scratch PostgreSQL cluster as (initdb refuses root): run day2's worker as another user, or create that user`);
  }
}
