// What a support bundle may show of a deployment's secrets: nothing. The env file keeps
// every line and variable name, but the values of secret-looking variables (and of any
// variable holding a database URL) become [REDACTED], commented-out assignments included;
// every other text in the bundle has those same values, and credentials in URLs, masked.
import { parseEnvFile } from './envfile';
import { redactCredentials } from './runtime/adapter';

export const REDACTED = '[REDACTED]';

/** Names the runbooks redact: passwords, secrets, keys, tokens and the like. */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|PRIVATE|CREDENTIAL|AUTH|SALT|COOKIE|SESSION|DSN/i;
/** Values that are connection strings, whatever the variable is called. */
const CONNECTION_URL = /^(postgres(ql)?|mysql|mariadb|mongodb(\+srv)?|rediss?|amqps?|sqlserver|mssql|clickhouse)(\+[a-z0-9]+)?:\/\//i;
/** `NAME=value`, also when commented out (`# NAME=value`): an old secret is still one. */
const ASSIGNMENT = /^(\s*(?:#\s*)?(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.]*)(\s*=\s*)(.*)$/;
/** Shorter values are not worth hunting for in other text (and would match by chance). */
const MIN_SCRUB_LENGTH = 8;

export interface RedactedEnv {
  text: string;
  /** The names whose values were replaced. */
  redacted: string[];
  /** The values replaced (secrets: keep them in memory only), for `scrubSecrets`. */
  secrets: string[];
}

/** `extraSecretNames`: variables the deployment names as secret (database URL, keys). */
export function redactEnvFile(text: string, extraSecretNames: readonly string[] = []): RedactedEnv {
  const redacted = new Set<string>();
  const secrets = new Set<string>();
  const lines = text.split('\n').map((raw) => {
    const cr = raw.endsWith('\r') ? '\r' : '';
    const match = ASSIGNMENT.exec(cr ? raw.slice(0, -1) : raw);
    if (!match) return redactCredentials(raw);
    const [, prefix, name, equals, rawValue] = match as unknown as [string, string, string, string, string];
    const value = parseEnvFile(`${name}=${rawValue}`).get(name) ?? rawValue;
    const isSecret = SECRET_NAME.test(name) || extraSecretNames.includes(name) || CONNECTION_URL.test(value);
    // A URL's password is a secret whatever the variable is called.
    const found = isSecret ? [value, rawValue, ...urlPasswords(value)] : urlPasswords(value);
    for (const v of found) if (v.length >= MIN_SCRUB_LENGTH) secrets.add(v);
    if (!isSecret || value === '') return redactCredentials(raw);
    redacted.add(name);
    return `${prefix}${name}${equals}${REDACTED}${cr}`;
  });
  return { text: lines.join('\n'), redacted: [...redacted], secrets: [...secrets] };
}

/** Every known secret value in `text` becomes [REDACTED], then URL credentials are masked. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return redactCredentials(out);
}

/** The password of a URL, raw and percent-decoded: logs may show either. */
function urlPasswords(value: string): string[] {
  try {
    const { password } = new URL(value);
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}
