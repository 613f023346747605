// Connection options shared by the client, the worker and the approver: address,
// namespace, TLS / mTLS and API key from day2.yaml. The worker's native connection is made
// in worker.ts, so the CLI never loads @temporalio/worker to talk to the server.
import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { temporalApiKey, type Day2Config } from './config';
import { TemporalUnreachableError } from './domain/errors';

function tlsOptions(config: Day2Config) {
  const tls = config.temporal.tls;
  if (!tls) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile ? readFileSync(tls.caFile) : undefined,
    clientCertPair: tls.certFile && tls.keyFile ? { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined,
  };
}

/** Address, TLS and API key: the same for a client and a worker connection. */
export function connectionOptions(config: Day2Config) {
  const apiKey = temporalApiKey(config);
  const tls = tlsOptions(config) ?? (apiKey ? true : undefined);
  return { address: config.temporal.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}

export async function connectClient(config: Day2Config): Promise<Connection> {
  try {
    return await Connection.connect({ ...connectionOptions(config), connectTimeout: '5 seconds' } as ConnectionOptions);
  } catch (err) {
    throw new TemporalUnreachableError(
      `cannot reach the Temporal server at ${config.temporal.address}: ${(err as Error).message} — start a local one with \`day2 dev\` ` +
        `(it listens on 127.0.0.1:7233), or point temporal.address in day2.yaml (or $TEMPORAL_ADDRESS) at yours`,
    );
  }
}
