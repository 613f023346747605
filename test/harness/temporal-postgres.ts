// A Temporal server on PostgreSQL persistence for tests (src/temporal-postgres.ts): its own
// private PostgreSQL cluster (fsync off) in a temporary directory, the server built with
// go install on first use. Unlike the shared dev server, a test may kill and restart it:
//
//   const server = await startTemporalOnPostgres();
//   useAsTestServer(server);   // before startE2E: it connects here, not to the shared one
//   ...
//   await server.killServer();   // SIGKILL, PostgreSQL keeps running
//   await server.startServer();  // same schema, same ports
//   await server.stop();         // server, cluster and directory
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../../scripts/ensure-tools';
import { startTemporalPostgres, type TemporalPostgres } from '../../src/temporal-postgres';
import { removeTemporalPostgresData } from '../../src/temporal-postgres-cluster';

export async function startTemporalOnPostgres(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<TemporalPostgres> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'day2-temporal-pg-'));
  const server = await startTemporalPostgres({ dir, cliPath: await ensureTemporalCli(), fastPostgres: true, say: opts.log });
  return {
    ...server,
    async stop() {
      await server.stop();
      if (!opts.dir && !process.env.DAY2_KEEP_TEST_DIRS) removeTemporalPostgresData(dir);
    },
  };
}

/** Points startTemporal (and so startE2E) at `server`: its gRPC address, its HTTP API and
 * namespace all together, so no config mixes two servers. */
export function useAsTestServer(server: Pick<TemporalPostgres, 'address' | 'httpAddress' | 'namespace'>): void {
  process.env.DAY2_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.DAY2_TEST_TEMPORAL_HTTP_ADDRESS = server.httpAddress;
  process.env.DAY2_TEST_TEMPORAL_NAMESPACE = server.namespace;
}
