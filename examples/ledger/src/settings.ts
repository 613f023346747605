// Typed view of the env file. Only what every process needs to exist at all is checked
// here (database, port, release); secrets are validated where they are used, so that a
// bad secret makes the API unready (503 with a reason) instead of invisible.
import { readEnvFile } from './env-file';
import { LedgerError } from './errors';

export interface Settings {
  envFile: string;
  databaseUrl: string;
  /** Owner-privileged URL for migrations, when the runtime role may not run DDL. */
  databaseUrlMigrate: string | undefined;
  port: number;
  version: string;
  apiKeySecret: string | undefined;
  apiKeySecretPrevious: string | undefined;
  vaultSigningKey: string | undefined;
  legacyAuth: string | undefined;
}

export function loadSettings(envFile: string): Settings {
  const vars = readEnvFile(envFile);
  // An empty value counts as unset: day2 may blank a variable rather than delete it.
  const optional = (name: string): string | undefined => {
    const value = vars.get(name);
    return value === undefined || value === '' ? undefined : value;
  };
  const required = (name: string): string => {
    const value = optional(name);
    if (value === undefined) throw new LedgerError(`${name} is required in ${envFile}`);
    return value;
  };
  return {
    envFile,
    databaseUrl: required('DATABASE_URL'),
    databaseUrlMigrate: optional('DATABASE_URL_MIGRATE'),
    port: parsePort(required('PORT')),
    version: required('LEDGER_VERSION'),
    apiKeySecret: optional('API_KEY_SECRET'),
    apiKeySecretPrevious: optional('API_KEY_SECRET_PREVIOUS'),
    vaultSigningKey: optional('VAULT_SIGNING_KEY'),
    legacyAuth: optional('LEDGER_LEGACY_AUTH'),
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LedgerError(`PORT must be an integer between 1 and 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}
