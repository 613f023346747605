// The background worker (`node --import tsx worker.ts --env-file <path>`) the runbooks stop
// before migrating. It only reads — its sessions are read-only — so comparing table
// checksums around an operation is meaningful while it runs.
import { createPool } from './db';
import { messageOf } from './errors';
import { createLogger } from './logger';
import { loadStartupSettings } from './service-startup';

const TICK_MS = 2_000;

const log = createLogger({ service: 'worker', pid: process.pid });
const { settings, release } = loadStartupSettings(process.argv.slice(2), log);
const pool = createPool(settings.databaseUrl, `ledger-worker-${release.version}`, { max: 1, readOnly: true });
let timer: NodeJS.Timeout | undefined;
let stopping = false;

async function tick(): Promise<void> {
  try {
    const result = await pool.query<{ n: string }>('SELECT count(*) AS n FROM entries');
    log.info('worker tick', { entries: Number(result.rows[0]?.n ?? 0) });
  } catch (error) {
    // The database may be mid-restore; keep running and try again next tick.
    log.warn('worker tick failed', { error: messageOf(error) });
  }
  if (!stopping) timer = setTimeout(() => void tick(), TICK_MS);
}

function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  log.info('shutting down', { signal });
  void pool.end().finally(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// `ctl start` waits for this line to know the worker got past its startup checks.
log.info('worker started', { version: release.version });
void tick();
