// A Temporal server configured as in production — its own processes, its state in
// PostgreSQL, not the SQLite of `temporal server start-dev` — natively, without Docker:
// for `day2 dev --persistence postgres` and for the tests that must hold on such a server.
//
//   1. the server and sql tool binaries (src/temporal-server-binaries.ts)
//   2. a private PostgreSQL cluster kept in `dir` (src/temporal-postgres-cluster.ts)
//   3. the schema: create-database, setup-schema -v 0.0, update-schema -d <module>/schema/…
//      on `temporal` and `temporal_visibility`; a second start only runs update-schema,
//      which is a no-op when the schema is current
//   4. the config, adapted from the module's config/development-postgres12.yaml (ports,
//      database address, log level), and `server … start`
//   5. the namespace, and day2's search attributes on it (SQL visibility keeps custom
//      search attributes per namespace)
//
// The Web UI is not part of the server (`day2 dev` without --persistence has one; on this
// server run temporalio/ui, or the UI of docker-compose.temporal.yml).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import YAML from 'yaml';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { diesWithParent, isServerRunning, registerSearchAttributes, stopProcess } from './dev-server';
import { startTemporalPostgresCluster, type TemporalPostgresCluster } from './temporal-postgres-cluster';
import { ensureTemporalServer, type TemporalServerBinaries } from './temporal-server-binaries';

export interface TemporalPostgresOptions {
  /** Holds everything: the PostgreSQL cluster (or a pointer to it), config/, server.log,
   * ports.json. Start again on the same directory to get the same workflows back. */
  dir: string;
  /** Temporal CLI, to register the search attributes. */
  cliPath: string;
  /** Frontend gRPC port. Default: the one this directory used before, else a free one. */
  port?: number;
  namespace?: string;
  /** The server's log level (its log goes to `dir`/server.log). Default: warn. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** fsync off in PostgreSQL: for tests. */
  fastPostgres?: boolean;
  /** Progress lines (building, schema, starting). */
  say?: (line: string) => void;
}

export interface TemporalPostgres {
  address: string;
  /** The frontend's HTTP API, for temporal.httpAddress. */
  httpAddress: string;
  port: number;
  namespace: string;
  dir: string;
  logFile: string;
  postgres: { host: string; port: number };
  /** Milliseconds each phase took on this start. */
  timings: { binariesMs: number; postgresMs: number; schemaMs: number; serverMs: number; namespaceMs: number };
  /** SIGKILL the server only (PostgreSQL keeps running): a crash, for the tests. */
  killServer(): Promise<void>;
  /** Starts the server again on the same schema and ports, after killServer. */
  startServer(): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and the PostgreSQL cluster. */
  stop(): Promise<void>;
}

const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;
const ENV_NAME = 'day2-postgres';
const READY_TIMEOUT_MS = 120_000;
/** Ringpop stores membership ports in a smallint column. */
const MEMBERSHIP_PORT_LIMIT = 32768;

interface Ports {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export async function startTemporalPostgres(opts: TemporalPostgresOptions): Promise<TemporalPostgres> {
  const say = opts.say ?? (() => {});
  const dir = path.resolve(opts.dir);
  const namespace = opts.namespace ?? 'default';
  mkdirSync(path.join(dir, 'config'), { recursive: true });
  const timings = { binariesMs: 0, postgresMs: 0, schemaMs: 0, serverMs: 0, namespaceMs: 0 };
  const timed = async <T>(key: keyof typeof timings, run: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    try {
      return await run();
    } finally {
      timings[key] = Date.now() - start;
    }
  };

  const binaries = await timed('binariesMs', () => ensureTemporalServer());
  const cluster = await timed('postgresMs', () => startTemporalPostgresCluster(path.join(dir), { fast: opts.fastPostgres }));
  let server: ResultPromise | undefined;
  try {
    say(`PostgreSQL for Temporal on 127.0.0.1:${cluster.port}`);
    await timed('schemaMs', () => setUpSchema(binaries, cluster, say));
    const ports = await choosePorts(dir, opts.port);
    writeConfig(dir, binaries.moduleDir, cluster, ports, opts.logLevel ?? 'warn');
    const address = `127.0.0.1:${ports.frontend}`;
    const logFile = path.join(dir, 'server.log');
    const launch = async () => {
      if (await isServerRunning(address))
        throw new Error(`A Temporal server already answers on ${address}: stop it, or choose another port.`);
      server = spawnServer(binaries.server, dir, logFile);
      await waitUntilReady(address, server, logFile);
    };
    await timed('serverMs', launch);
    say(`Temporal server (PostgreSQL persistence) at ${address}`);
    await timed('namespaceMs', () => ensureNamespace(address, namespace, opts.cliPath));
    return {
      address,
      httpAddress: `http://127.0.0.1:${ports.frontendHttp}`,
      port: ports.frontend,
      namespace,
      dir,
      logFile,
      postgres: { host: cluster.host, port: cluster.port },
      timings,
      async killServer() {
        if (server) await killProcess(server, 'SIGKILL');
        server = undefined;
      },
      startServer: launch,
      async stop() {
        if (server) await stopProcess(server);
        server = undefined;
        await cluster.stop();
      },
    };
  } catch (err) {
    if (server) await stopProcess(server);
    await cluster.stop();
    throw err;
  }
}

/** Idempotent: each database is created if missing, versioned if never set up, then
 * updated to the module's newest schema version (a no-op when already there). */
async function setUpSchema(binaries: TemporalServerBinaries, cluster: TemporalPostgresCluster, say: (line: string) => void): Promise<void> {
  const versioned = {
    [DATABASES.temporal]: path.join(binaries.moduleDir, 'schema/postgresql/v12/temporal/versioned'),
    [DATABASES.visibility]: path.join(binaries.moduleDir, 'schema/postgresql/v12/visibility/versioned'),
  };
  for (const [database, schemaDir] of Object.entries(versioned)) {
    const state = await databaseState(cluster, database);
    const sql = (...args: string[]) => runSqlTool(binaries.sqlTool, cluster, database, args);
    if (!state.exists) await sql('create-database');
    if (!state.versioned) await sql('setup-schema', '-v', '0.0');
    await sql('update-schema', '-d', schemaDir);
    say(`schema of ${database}: ${state.versioned ? 'updated (already set up)' : 'set up'}`);
  }
}

async function databaseState(cluster: TemporalPostgresCluster, database: string): Promise<{ exists: boolean; versioned: boolean }> {
  const query = async (db: string, sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.user, database: db });
    await client.connect();
    try {
      return (await client.query(sql, params)).rowCount ?? 0;
    } finally {
      await client.end();
    }
  };
  const exists = (await query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])) > 0;
  if (!exists) return { exists, versioned: false };
  const versioned = (await query(database, "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'")) > 0;
  return { exists, versioned };
}

async function runSqlTool(sqlTool: string, cluster: TemporalPostgresCluster, database: string, args: string[]): Promise<void> {
  const result = await execa(
    sqlTool,
    ['--plugin', 'postgres12', '--ep', cluster.host, '-p', String(cluster.port), '-u', cluster.user, '--db', database, ...args],
    { reject: false, all: true, stdin: 'ignore' },
  );
  if (result.exitCode !== 0)
    throw new Error(
      `temporal sql tool ${args[0]} on ${database} failed: ${String(result.all ?? '')
        .trim()
        .split('\n')
        .slice(-5)
        .join(' | ')}`,
    );
}

/** The ports this directory used before (so a restart keeps the address workers use),
 * else free ones; the membership ports below 32768. */
async function choosePorts(dir: string, frontend?: number): Promise<Ports> {
  const file = path.join(dir, 'ports.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Ports) : undefined;
  if (saved && (frontend === undefined || frontend === saved.frontend)) return saved;
  const taken = new Set<number>(frontend ? [frontend] : []);
  const pick = async () => {
    const port = await freePortBelow(MEMBERSHIP_PORT_LIMIT, taken);
    taken.add(port);
    return port;
  };
  const ports: Ports = {
    frontend: frontend ?? (await pick()),
    frontendHttp: await pick(),
    frontendMembership: await pick(),
    history: await pick(),
    historyMembership: await pick(),
    matching: await pick(),
    matchingMembership: await pick(),
    worker: await pick(),
    workerMembership: await pick(),
  };
  writeFileSync(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

async function freePortBelow(limit: number, taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (limit - 10_000));
    if (!taken.has(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port below ${limit} on 127.0.0.1`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** config/day2-postgres.yaml from the module's development-postgres12.yaml, and its
 * dynamic config from development-sql.yaml plus what the dev server sets. */
function writeConfig(dir: string, moduleDir: string, cluster: TemporalPostgresCluster, ports: Ports, level: string): void {
  const config = YAML.parse(readFileSync(path.join(moduleDir, 'config/development-postgres12.yaml'), 'utf8'));
  config.log = { stdout: true, level };
  for (const store of Object.values(config.persistence.datastores) as Array<{ sql: Record<string, unknown> }>) {
    store.sql.connectAddr = `${cluster.host}:${cluster.port}`;
    store.sql.user = cluster.user;
    // Trust auth on a loopback-only private cluster: no password to write anywhere.
    store.sql.password = '';
  }
  // Neither is needed here, and their fixed ports (7936, 8000) would collide between servers.
  delete config.global.pprof;
  delete config.global.metrics;
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  config.services = {
    frontend: rpc(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
    matching: rpc(ports.matching, ports.matchingMembership),
    history: rpc(ports.history, ports.historyMembership),
    worker: rpc(ports.worker, ports.workerMembership),
  };
  config.clusterMetadata.clusterInformation.active.rpcAddress = `127.0.0.1:${ports.frontend}`;
  const dynamicFile = path.join(dir, 'config', 'dynamicconfig.yaml');
  config.dynamicConfigClient = { filepath: dynamicFile, pollInterval: '10s' };
  writeFileSync(path.join(dir, 'config', `${ENV_NAME}.yaml`), YAML.stringify(config), { mode: 0o600 });

  const dynamic = YAML.parse(readFileSync(path.join(moduleDir, 'config/dynamicconfig/development-sql.yaml'), 'utf8')) ?? {};
  const set = (key: string, value: unknown) => (dynamic[key] = [{ value, constraints: {} }]);
  set(
    'component.nexusoperations.callback.endpoint.template',
    `http://127.0.0.1:${ports.frontendHttp}/namespaces/{{.NamespaceName}}/nexus/callback`,
  );
  // As `temporal server start-dev` does: a search attribute registered a moment ago is
  // usable at once (day2 registers them right after start), with the QPS raised to match.
  set('system.forceSearchAttributesCacheRefreshOnRead', true);
  set('frontend.persistenceMaxQPS', 10000);
  set('history.persistenceMaxQPS', 45000);
  writeFileSync(dynamicFile, YAML.stringify(dynamic));
}

function spawnServer(serverBin: string, dir: string, logFile: string): ResultPromise {
  const args = ['--root', dir, '--config', 'config', '--env', ENV_NAME, '--allow-no-auth', 'start'];
  const [file, argv] = diesWithParent(serverBin, args);
  const log = { file: logFile, append: true } as const;
  return execa(file, argv, { reject: false, stdin: 'ignore', stdout: log, stderr: log, buffer: false, cwd: dir });
}

async function waitUntilReady(address: string, child: ResultPromise, logFile: string): Promise<void> {
  let exited: string | undefined;
  void child.then((r) => (exited = `exit code ${r.exitCode ?? r.signal}`));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the Temporal server stopped before it was ready (${exited}); last lines of ${logFile}:\n${tail(logFile)}`);
    if (await isServerRunning(address)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  await killProcess(child, 'SIGKILL');
  throw new Error(`the Temporal server did not answer on ${address} within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join('\n');
}

/** Registers the namespace if missing, then day2's search attributes on it: retried,
 * since a namespace registered a moment ago takes a few seconds to reach every service. */
async function ensureNamespace(address: string, namespace: string, cliPath: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
    } catch (err) {
      if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await registerSearchAttributes(cliPath, address, namespace);
        await connection.workflowService.countWorkflowExecutions({ namespace, query: "Day2Deployment = 'none'" });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await connection.close();
  }
}

async function killProcess(child: ResultPromise, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await child;
}
