// The commands that work on the database: migrate, seed, create-key, rehash-keys, scan.
import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import { loadApiKeySecrets } from '../api-key-secret';
import { rehashApiKeys } from '../api-key-rehash';
import { createApiKey } from '../api-keys';
import { recordAuditEvent } from '../audit';
import { connectClient } from '../db';
import { LedgerError, messageOf } from '../errors';
import { readKeyring } from '../keyring';
import { appliedMigrationIds, assertMigrated, migrateTo, pendingMessage, pendingMigrationIds } from '../migrate';
import { requireRelease } from '../releases';
import { scanVault } from '../scan';
import { loadSettings } from '../settings';
import { loadSigningKey } from '../signing-key';
import { appendEntries } from '../vault';
import { emitJson, say } from './output';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectClient(url, 'ledger-ctl').catch((error: unknown) => {
    throw new LedgerError(`cannot connect to the database: ${messageOf(error)}`);
  });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function migrate(envFile: string, version: string): Promise<void> {
  const settings = loadSettings(envFile);
  requireRelease(version);
  const applied = await withClient(settings.databaseUrlMigrate ?? settings.databaseUrl, (c) => migrateTo(c, version));
  say(applied.length > 0 ? `applied ${applied.length} migration(s) for ${version}` : `schema already at ${version}`);
  emitJson({ applied });
}

/** Exit status 0 when the schema has every migration the configured release needs, 1 when
 * some are pending (preflight's "migrations not pending"); read-only either way. */
export async function migrations(envFile: string): Promise<number> {
  const settings = loadSettings(envFile);
  const { version } = requireRelease(settings.version);
  const { applied, pending } = await withClient(settings.databaseUrl, async (client) => ({
    applied: await appliedMigrationIds(client),
    pending: await pendingMigrationIds(client, version),
  }));
  emitJson({ release: version, applied, pending });
  // Last, so a check that shows the final line of output shows this one.
  say(
    pending.length > 0
      ? `${pendingMessage(version)} (missing ${pending.join(', ')})`
      : `schema at ${version}: ${applied.length} migration(s) applied, none pending`,
  );
  return pending.length > 0 ? 1 : 0;
}

export async function seed(envFile: string, count: number): Promise<void> {
  const settings = loadSettings(envFile);
  const release = requireRelease(settings.version);
  const key = loadSigningKey(settings.vaultSigningKey);
  const payloads = Array.from({ length: count }, (_, i) => ({ n: i + 1, note: 'seed' }));
  const appended = await withClient(settings.databaseUrl, async (client) => {
    await assertMigrated(client, release.version);
    return appendEntries(client, key, payloads, { recordPayloadBytes: release.recordsPayloadBytes });
  });
  say(`appended ${appended.length} entries`);
  emitJson({ appended: appended.length, lastSeq: appended.at(-1)?.seq ?? null });
}

/** Prints only the plaintext key on stdout: the caller keeps it, the database never has it. */
export async function createKey(envFile: string, name: string): Promise<void> {
  const settings = loadSettings(envFile);
  const release = requireRelease(settings.version);
  const secrets = loadApiKeySecrets(settings.apiKeySecret, settings.apiKeySecretPrevious);
  const created = await withClient(settings.databaseUrl, async (client) => {
    await assertMigrated(client, release.version);
    const result = await createApiKey(client, secrets, name);
    await recordAuditEvent(client, release, 'api_key.created', { keyId: result.keyId, name });
    return result;
  });
  say(`created API key ${created.keyId} (${name})`);
  process.stdout.write(`${created.key}\n`);
}

export async function rehashKeys(envFile: string): Promise<void> {
  const settings = loadSettings(envFile);
  const release = requireRelease(settings.version);
  const secrets = loadApiKeySecrets(settings.apiKeySecret, settings.apiKeySecretPrevious);
  const result = await withClient(settings.databaseUrl, async (client) => {
    await assertMigrated(client, release.version);
    const outcome = await rehashApiKeys(client, secrets);
    if (outcome.rehashed > 0) {
      await recordAuditEvent(client, release, 'api_keys.rehashed', {
        rehashed: outcome.rehashed,
        fromSecret: secrets.previous?.fingerprint,
        toSecret: secrets.current.fingerprint,
      });
    }
    return outcome;
  });
  for (const id of result.unreadable) say(`warning: API key ${id} could not be opened under API_KEY_SECRET_PREVIOUS; left as is`);
  say(`re-hashed ${result.rehashed} API key(s) under secret ${secrets.current.fingerprint}; ${result.remaining} not under it`);
  emitJson({ rehashed: result.rehashed, remaining: result.remaining });
}

/** Exit status 0 when every entry verifies, 1 otherwise; the report is printed either way. */
export async function scan(envFile: string, keyringFile: string | undefined): Promise<number> {
  const settings = loadSettings(envFile);
  const publicKeys = new Map<string, KeyObject>();
  if (keyringFile !== undefined) {
    const keyring = readKeyring(keyringFile);
    for (const warning of keyring.warnings) say(`warning: ${warning}`);
    for (const key of keyring.keys) publicKeys.set(key.keyId, key.publicKey);
  }
  try {
    const current = loadSigningKey(settings.vaultSigningKey);
    publicKeys.set(current.keyId, current.publicKey);
  } catch (error) {
    say(`warning: ${messageOf(error)}; verifying with the keyring only`);
  }
  const report = await withClient(settings.databaseUrl, (client) => scanVault(client, publicKeys));
  say(report.ok ? `vault intact: ${report.entries} entries` : `vault BROKEN: ${report.broken.length} of ${report.entries} entries fail`);
  emitJson(report);
  return report.ok ? 0 : 1;
}

export function parseCount(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0 || count > 1_000_000) {
    throw new LedgerError(`--entries must be an integer between 0 and 1000000, got ${text}`);
  }
  return count;
}
