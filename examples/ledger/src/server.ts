// The ledger API process: `node --import tsx server.ts --env-file <path>`.
import { createServer } from 'node:http';
import { createRequestListener } from './http-app';
import { createLogger } from './logger';
import { loadStartupSettings, refuseToStart } from './service-startup';
import { createServiceContext } from './service-context';

const SHUTDOWN_GRACE_MS = 5_000;

const log = createLogger({ service: 'api', pid: process.pid });
const { settings, release } = loadStartupSettings(process.argv.slice(2), log);
const ctx = createServiceContext(settings, release, log);
const server = createServer(createRequestListener(ctx));

server.on('error', (error) => refuseToStart(log, error));
server.listen(settings.port, '127.0.0.1', () => {
  log.info('listening', {
    version: release.version,
    port: settings.port,
    signingKeyId: ctx.signingKey.ok ? ctx.signingKey.value.keyId : null,
    dualSecret: settings.apiKeySecretPrevious !== undefined,
  });
});

// Graceful shutdown: become unready first, stop accepting, let in-flight requests finish
// (idle keep-alive sockets are closed at once, busy ones after a grace period), then exit.
function shutdown(signal: string): void {
  if (ctx.shuttingDown) return;
  ctx.shuttingDown = true;
  log.info('shutting down', { signal });
  server.close(() => {
    void ctx.pool.end().finally(() => {
      log.info('stopped');
      process.exit(0);
    });
  });
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
