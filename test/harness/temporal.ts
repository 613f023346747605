// A Temporal server for tests. `npm test` starts one dev server for the whole run and
// passes its address in DAY2_TEST_TEMPORAL_ADDRESS; a test file then only connects. Run
// alone (no env var), a test file gets its own dev server from the cached Temporal CLI
// (@temporalio/testing cannot download one on this network).
//
// Restarting the server mid-operation (durability tests): pass a dbFilename (or a port),
// which always gives a private server (a shared one cannot be restarted under other
// tests), then
//
//   let temporal = await startTemporal({ dbFilename });
//   ...start a workflow...
//   await temporal.stop();   // kills the server at once, like a crash; keeps the SQLite file
//   temporal = await startTemporal({ dbFilename, port: temporal.port });   // (+ httpPort)
//
// Same file and port, so history survives, and a Worker on its own
// NativeConnection.connect({ address }) and a Client on its own Connection reconnect and
// finish the workflow (checked). The `connection`/`nativeConnection` returned here are
// closed by stop(), so don't give those to anything that must outlive the restart.
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { workflowSource } from '../../src/worker';
import { ensureTemporalCli } from '../../scripts/ensure-tools';
import { DAY2_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { freePort } from './free-port';

export interface TestTemporal {
  address: string;
  /** The frontend's HTTP API (temporal.httpAddress), when known; a restart passes its
   * port (httpPort) as it passes the gRPC one. */
  httpAddress?: string;
  namespace: string;
  port: number;
  /** SQLite file of a private persistent server, if one was asked for. */
  dbFilename?: string;
  uiUrl?: string;
  client: Client;
  connection: Connection;
  nativeConnection?: NativeConnection;
  /** Closes the connections, and stops the server if this call started it. */
  stop(): Promise<void>;
}

export async function startTemporal(opts: { dbFilename?: string; port?: number; httpPort?: number } = {}): Promise<TestTemporal> {
  const shared = process.env.DAY2_TEST_TEMPORAL_ADDRESS;
  const namespace = process.env.DAY2_TEST_TEMPORAL_NAMESPACE || 'default';
  const useShared = Boolean(shared && !opts.dbFilename && !opts.port);
  const port = useShared ? 0 : (opts.port ?? (await freePort()));
  const httpPort = useShared ? 0 : (opts.httpPort ?? (await freePort()));
  const env = useShared
    ? await TestWorkflowEnvironment.createFromExistingServer({ address: shared, namespace })
    : await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: await ensureTemporalCli() },
          searchAttributes: DAY2_SEARCH_ATTRIBUTES,
          ip: '127.0.0.1',
          // Chosen here rather than by the server so a restart can ask for the same one.
          port,
          dbFilename: opts.dbFilename,
          ui: false,
          namespace,
          extraArgs: ['--http-port', String(httpPort)],
        },
      });
  return {
    address: env.address,
    httpAddress: useShared ? process.env.DAY2_TEST_TEMPORAL_HTTP_ADDRESS || undefined : `http://127.0.0.1:${httpPort}`,
    namespace,
    port: Number(env.address.split(':').pop()),
    dbFilename: opts.dbFilename,
    client: env.client,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    stop: () => env.teardown(),
  };
}

/** A worker on its own connection to `temporal`, running the real workflows (the bundle
 * scripts/test.ts built, else src/workflows) with the activities given: the workflow
 * tests' worker. Closing the connection is the caller's, after the worker stopped. */
export async function testWorker(
  temporal: Pick<TestTemporal, 'address' | 'namespace'>,
  opts: Pick<WorkerOptions, 'taskQueue' | 'activities'> & Partial<WorkerOptions>,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    ...workflowSource(process.env.DAY2_WORKFLOW_BUNDLE),
    ...opts,
  });
  return { worker, connection };
}
