// The suite's secret bookkeeping (tests only). Tests record every secret value they
// generate in $DAY2_TEST_SECRETS_FILE (see recordTestSecrets); e2e teardown also harvests
// the env file's secrets, which catches values generated inside activities (rotations).
// Tests on a private Temporal server export its histories to $DAY2_TEST_LOG_DIR before
// it goes away. test/after-all/secret-scan.test.ts, after every other file, scans all of it.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { recordTestSecrets } from '../../examples/ledger-deployment';
import { parseEnvFile } from '../../src/envfile';
import { AesGcmPayloadCodec, isEncrypted } from '../../src/codec/aes-gcm-codec';
import { parseKeyring } from '../../src/codec/keys';

export { recordTestSecrets };

const SECRET_NAME = /SECRET|KEY|PASSWORD|TOKEN|CREDENTIAL/i;

/** Records the secret values an env file holds now: secret-named variables and URL passwords. */
export function harvestEnvSecrets(envFile: string): void {
  if (!process.env.DAY2_TEST_SECRETS_FILE || !existsSync(envFile)) return;
  const env = parseEnvFile(readFileSync(envFile, 'utf8'));
  const values: string[] = [];
  for (const name of env.names()) {
    const value = env.get(name) ?? '';
    if (SECRET_NAME.test(name) && value.length >= 8) values.push(value);
    const password = urlPassword(value);
    if (password) values.push(password);
  }
  recordTestSecrets(...values);
}

function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  try {
    const password = decodeURIComponent(new URL(value).password);
    return password.length >= 4 ? password : undefined;
  } catch {
    return undefined;
  }
}

/** Recorded secrets, de-duplicated (empty when not run by scripts/test.ts). */
export function readRecordedSecrets(): string[] {
  const file = process.env.DAY2_TEST_SECRETS_FILE;
  if (!file || !existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return [...new Set(lines.map((l) => JSON.parse(l) as string))];
}

/** Codec keyrings used by tests: payloads they encrypted are decrypted before scanning. */
export function recordTestCodecKeyring(json: string): void {
  const keyring = parseKeyring(json, 'test keyring');
  recordTestSecrets(...[...keyring.keys.values()].map((k) => k.toString('base64')));
  const file = process.env.DAY2_TEST_SECRETS_FILE;
  if (file) writeFileSync(`${file}.keyrings`, `${JSON.stringify(json)}\n`, { flag: 'a', mode: 0o600 });
}

export function recordedCodecs(): AesGcmPayloadCodec[] {
  const file = process.env.DAY2_TEST_SECRETS_FILE;
  if (!file || !existsSync(`${file}.keyrings`)) return [];
  return readFileSync(`${file}.keyrings`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => new AesGcmPayloadCodec(parseKeyring(JSON.parse(l) as string, 'test keyring')));
}

interface ScanStats {
  encryptedPayloads: number;
  undecryptable: number;
}

/** A history as text to search: JSON where every byte array (payload data, metadata) is
 * replaced by its UTF-8 text, and encrypted payloads by their decryption when a recorded
 * test keyring can decrypt them. */
export async function historyText(history: unknown, stats: ScanStats = { encryptedPayloads: 0, undecryptable: 0 }): Promise<string> {
  const codecs = recordedCodecs();
  const walk = async (value: unknown): Promise<unknown> => {
    if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
    if (Array.isArray(value)) return Promise.all(value.map(walk));
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if ('data' in record && 'metadata' in record && isEncrypted(record as never)) {
        stats.encryptedPayloads++;
        for (const codec of codecs) {
          const plain = await codec.decode([record as never]).catch(() => undefined);
          if (plain) return walk(plain[0]);
        }
        stats.undecryptable++;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(record)) out[k] = await walk(v);
      return out;
    }
    if (typeof value === 'bigint') return value.toString();
    return value;
  };
  return JSON.stringify(await walk(history));
}

export function logDir(): string | undefined {
  return process.env.DAY2_TEST_LOG_DIR;
}

/** Every workflow the server holds, with its history (as scan text). */
export async function* allHistories(
  client: Client,
  stats?: ScanStats,
): AsyncGenerator<{ workflowId: string; runId: string; text: string }> {
  for await (const wf of client.workflow.list()) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    yield { workflowId: wf.workflowId, runId: wf.runId, text: await historyText(history, stats) };
  }
}

/** Before a private Temporal server goes away: its histories, as scan text, into the log dir. */
export async function exportHistories(client: Client, label: string): Promise<number> {
  const dir = logDir();
  if (!dir) return 0;
  const out = path.join(dir, 'histories');
  mkdirSync(out, { recursive: true });
  let n = 0;
  for await (const h of allHistories(client)) {
    writeFileSync(path.join(out, `${label}-${h.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${h.runId}.json`), h.text);
    n++;
  }
  return n;
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** What to search for: the whole value, and its last 20 characters (a truncated or
 * re-wrapped leak still ends the same way; the start of a DER key is a constant prefix). */
export function needles(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, escaped, ...(secret.length > 24 ? [secret.slice(-20)] : [])])];
}
