// Everything the API's handlers share, built once at start. A secret that does not load
// is kept as a problem (readiness reports it) rather than stopping the process.
import type pg from 'pg';
import { loadApiKeySecrets, type ApiKeySecrets } from './api-key-secret';
import { createPool } from './db';
import { messageOf } from './errors';
import type { Logger } from './logger';
import type { ReleaseFeatures } from './releases';
import type { Settings } from './settings';
import { loadSigningKey, type SigningKey } from './signing-key';

/** A value that loaded, or the reason it did not. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface ServiceContext {
  settings: Settings;
  release: ReleaseFeatures;
  pool: pg.Pool;
  apiKeySecrets: Loaded<ApiKeySecrets>;
  signingKey: Loaded<SigningKey>;
  log: Logger;
  /** Set at SIGTERM: readiness answers 503 from then on. */
  shuttingDown: boolean;
}

export function createServiceContext(settings: Settings, release: ReleaseFeatures, log: Logger): ServiceContext {
  return {
    settings,
    release,
    pool: createPool(settings.databaseUrl, `ledger-api-${release.version}`),
    apiKeySecrets: attempt(() => loadApiKeySecrets(settings.apiKeySecret, settings.apiKeySecretPrevious)),
    signingKey: attempt(() => loadSigningKey(settings.vaultSigningKey)),
    log,
    shuttingDown: false,
  };
}

function attempt<T>(load: () => T): Loaded<T> {
  try {
    return { ok: true, value: load() };
  } catch (error) {
    return { ok: false, problem: messageOf(error) };
  }
}
