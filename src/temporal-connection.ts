// Connection options shared by the client, the worker and the approver: address,
// namespace, TLS / mTLS and API key from day2.yaml.
import { readFileSync } from 'node:fs';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { temporalApiKey, type Day2Config } from './config';

function tlsOptions(config: Day2Config) {
  const tls = config.temporal.tls;
  if (!tls) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile ? readFileSync(tls.caFile) : undefined,
    clientCertPair:
      tls.certFile && tls.keyFile ? { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined,
  };
}

function commonOptions(config: Day2Config) {
  const apiKey = temporalApiKey(config);
  const tls = tlsOptions(config) ?? (apiKey ? true : undefined);
  return { address: config.temporal.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}

export async function connectClient(config: Day2Config): Promise<Connection> {
  try {
    return await Connection.connect({ ...commonOptions(config), connectTimeout: '5 seconds' } as ConnectionOptions);
  } catch (err) {
    throw new Error(
      `cannot reach the Temporal server at ${config.temporal.address}: ${(err as Error).message} — start one with \`day2 dev\` or set temporal.address in day2.yaml`,
    );
  }
}

export async function connectWorker(config: Day2Config): Promise<NativeConnection> {
  return NativeConnection.connect(commonOptions(config) as NativeConnectionOptions);
}
