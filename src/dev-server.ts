// Launches `temporal server start-dev` (SQLite-backed, single process) for `day2 dev` and
// the demo, with day2's search attributes registered, and stops it cleanly. A user who
// already runs a server (another terminal, docker-compose.temporal.yml) keeps it: callers
// check isServerRunning first and call registerSearchAttributes instead of starting one.
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { DAY2_SEARCH_ATTRIBUTES } from './domain/search-attributes';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file that keeps workflows across restarts; its directory is created. */
  dbFile: string;
  port?: number;
  uiPort?: number;
  /** The HTTP API's port (temporal.httpAddress); default: the gRPC port + 10 (7243), as
   * Temporal's own servers use. */
  httpPort?: number;
  /** Extra namespace to create ("default" always exists). */
  namespace?: string;
  /** Receives each line the server prints: its banner, then warnings and errors. */
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  /** The HTTP API, for temporal.httpAddress. */
  httpAddress: string;
  uiUrl: string;
  stop(): Promise<void>;
  process: ResultPromise;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

/** `--search-attribute Day2Deployment=Keyword …` for each of day2's attributes. */
function searchAttributeArgs(): string[] {
  return DAY2_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`]);
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  const httpPort = opts.httpPort ?? port + 10;
  const address = `127.0.0.1:${port}`;
  // Without this, the readiness check below would mistake the other server for ours
  // while our process dies on "address already in use".
  if (await isServerRunning(address)) {
    throw new Error(`A Temporal server already answers on ${address}: reuse it, or choose another port.`);
  }
  mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    opts.dbFile,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--ip',
    '127.0.0.1',
    '--log-level',
    'warn',
    ...searchAttributeArgs(),
    ...(opts.namespace && opts.namespace !== 'default' ? ['--namespace', opts.namespace] : []),
  ];
  const [file, argv] = diesWithParent(opts.cliPath, args);
  const child = execa(file, argv, { reject: false, stdin: 'ignore', all: true, buffer: false });
  const log = opts.log;
  // Always read the pipe: a server blocked on a full one would stop answering.
  if (child.all) readline.createInterface({ input: child.all }).on('line', (line) => line && log?.(line));

  const stop = () => stopProcess(child);
  try {
    await waitUntilReady(address, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, httpAddress: `http://127.0.0.1:${httpPort}`, uiUrl: `http://127.0.0.1:${uiPort}`, stop, process: child };
}

/** On Linux, util-linux's `setpriv --pdeathsig` makes the kernel send the server SIGTERM
 * when this process dies, even by SIGKILL, where no handler of ours can run: a killed
 * `day2 dev` (or test run) never leaves an orphaned server holding its ports. setpriv
 * execs the server, so the child's pid is the server's. Elsewhere the server runs as is. */
export function diesWithParent(file: string, args: string[]): [string, string[]] {
  const setpriv = process.platform === 'linux' ? ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) : undefined;
  return setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', file, ...args]] : [file, args];
}

/** Polls the gRPC port until the frontend answers; fails early if the process exits. */
async function waitUntilReady(address: string, child: ResultPromise): Promise<void> {
  let exited: string | undefined;
  void child.then((r) => (exited = `exit code ${r.exitCode ?? r.signal}`));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`temporal server start-dev stopped before it was ready (${exited}); is port ${address} taken?`);
    if (await isServerRunning(address)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`temporal server start-dev did not answer on ${address} within ${READY_TIMEOUT_MS / 1000} s`);
}

/** SIGTERM, then SIGKILL if the server has not exited after 5 s. */
export async function stopProcess(child: ResultPromise): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  child.kill('SIGTERM');
  await child;
  clearTimeout(killer);
}

/** True when a Temporal frontend answers at `address` (host:port). */
export async function isServerRunning(address: string): Promise<boolean> {
  // A refused TCP connect answers "no" at once; the gRPC client would wait out its timeout.
  if (!(await acceptsTcp(address))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

function acceptsTcp(address: string): Promise<boolean> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Registers day2's search attributes on a server day2 did not start. Safe to repeat:
 * re-adding an attribute with the same type succeeds; one with another type is an error.
 */
export async function registerSearchAttributes(cliPath: string, address: string, namespace = 'default'): Promise<void> {
  // The CLI pairs the i-th --name with the i-th --type: a single --type after several
  // names registers only the first name, silently.
  const pairs = DAY2_SEARCH_ATTRIBUTES.flatMap((key) => ['--name', key.name, '--type', TypedSearchAttributes.toMetadataType(key.type)]);
  const result = await execa(
    cliPath,
    ['operator', 'search-attribute', 'create', ...pairs, '--address', address, '--namespace', namespace, '--command-timeout', '30s'],
    { reject: false, stdin: 'ignore', all: true },
  );
  const output = String(result.all ?? '');
  const alreadyThere = /already exists/i.test(output) && !/different type/i.test(output);
  if (result.exitCode !== 0 && !alreadyThere) {
    throw new Error(`Could not register day2's search attributes on ${address} (namespace ${namespace}): ${output.trim()}`);
  }
}
