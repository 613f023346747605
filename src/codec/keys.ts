// The payload codec's keyring: which key encrypts new payloads (`current`) and every key
// that may still be needed to read older histories. Loaded from the file or the env var
// named in day2.yaml (`temporal.codec`); key bytes never appear in errors or logs.
//
//   { "current": "2026-11", "keys": { "2026-11": "<base64 of 32 bytes>", "2026-05": "…" } }
//
// The env var may hold that JSON, or a single key as `<id>:<base64>`.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { codecKeyFromEnv, ConfigError, formatIssues, type Day2Config } from '../config';

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CodecKeyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const keyringSchema = z.strictObject({
  current: z.string().regex(KEY_ID, 'expected a key id of letters, digits, ".", "_" or "-" (at most 64)'),
  keys: z.record(z.string().regex(KEY_ID, 'expected a key id of letters, digits, ".", "_" or "-" (at most 64)'), z.string()),
});

/** Parses keyring JSON (or `<id>:<base64>`); `source` names where it came from in errors. */
export function parseKeyring(text: string, source: string): CodecKeyring {
  const trimmed = text.trim();
  let raw: unknown;
  if (trimmed.startsWith('{')) {
    try {
      raw = JSON.parse(trimmed);
    } catch {
      throw new ConfigError(`${source}: the codec keyring is not valid JSON (expected {"current": "<id>", "keys": {"<id>": "<base64>"}})`);
    }
  } else {
    const colon = trimmed.indexOf(':');
    if (colon <= 0) throw new ConfigError(`${source}: expected keyring JSON or '<key id>:<base64 key>'`);
    raw = { current: trimmed.slice(0, colon), keys: { [trimmed.slice(0, colon)]: trimmed.slice(colon + 1) } };
  }
  const parsed = keyringSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source}: ${formatIssues(parsed.error, keyringSchema)}`);
  const keys = new Map<string, Buffer>();
  for (const [id, encoded] of Object.entries(parsed.data.keys)) {
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length !== KEY_BYTES || bytes.toString('base64').replace(/=+$/, '') !== encoded.trim().replace(/=+$/, '')) {
      throw new ConfigError(
        `${source}: key '${id}' is not ${KEY_BYTES} bytes of base64 (AES-256 needs ${KEY_BYTES}; generate one with \`openssl rand -base64 32\`)`,
      );
    }
    keys.set(id, bytes);
  }
  if (!keys.has(parsed.data.current)) {
    throw new ConfigError(
      `${source}: current key '${parsed.data.current}' is not among the keys (${[...keys.keys()].join(', ') || 'none'})`,
    );
  }
  return { currentKeyId: parsed.data.current, keys };
}

/** The configured keyring, or undefined when day2.yaml has no `temporal.codec`. */
export function loadKeyring(config: Day2Config): CodecKeyring | undefined {
  const codec = config.temporal.codec;
  if (!codec) return undefined;
  if (codec.keyEnv) {
    const value = codecKeyFromEnv(config);
    if (!value)
      throw new ConfigError(`temporal.codec.keyEnv: environment variable ${codec.keyEnv} is not set (it should hold the codec keyring)`);
    return parseKeyring(value, `$${codec.keyEnv}`);
  }
  const file = codec.keyFile!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`temporal.codec.keyFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseKeyring(text, file);
}
