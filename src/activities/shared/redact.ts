// What a support bundle may show of a deployment's secrets: nothing. The env file keeps
// every line and variable name, but the values of secret-looking variables (and of any
// variable holding a database URL) become [REDACTED], commented-out assignments included;
// every other text in the bundle has those same values, and credentials in URLs, masked;
// then what merely looks like a secret (docs/security.md lists the shapes) is masked too,
// for the secrets a service prints that the env file never held.
import { parseEnvFile } from '../../envfile';
import { redactCredentials } from '../../domain/mask-credentials';

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

/** Every known secret value in `text` becomes [REDACTED], then anything shaped like a
 * secret, then URL credentials. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return redactCredentials(maskSecretShapes(out));
}

/** A name whose value is a secret, prefixes allowed (`DB_PASSWORD`, `client_secret`,
 * `X-Api-Key`); `max_tokens` or `secrets` are other words. */
const SECRET_KEY = String.raw`[A-Za-z0-9_.-]*?(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)`;
/** A quoted value on one line, backslash escapes included; group `q` is the quote, which
 * may itself be escaped (`\"x\"`: JSON logged inside a JSON string). */
const QUOTED = String.raw`(?<q>\\?["'])(?:(?!\k<q>)(?:\\.|[^\\\n]))+\k<q>`;

/** Each shape keeps what is around the value (name, separator, quotes, scheme). */
const SHAPES: Array<[RegExp, (m: Record<string, string | undefined>) => string]> = [
  // -----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY----- (or the end of a cut-off text)
  [
    /(?<begin>-----BEGIN (?<kind>[A-Z0-9 ]*)PRIVATE KEY-----)(?<body>[\s\S]*?)(?<end>-----END \k<kind>PRIVATE KEY-----|$)/g,
    ({ begin, body = '', end = '' }) => {
      const lead = /^(?:\\n|\s)*/.exec(body)![0];
      const trail = end ? /(?:\\n|\s)*$/.exec(body.slice(lead.length))![0] : '';
      return `${begin}${lead}${REDACTED}${trail}${end}`;
    },
  ],
  // Authorization: Bearer x / Basic x / x; also as a JSON field or `authorization=`.
  [
    /\b(?<head>(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:[A-Za-z][A-Za-z0-9-]*[ \t]+(?=[^\s'"]))?)[^\s'",;\\]+/gi,
    ({ head }) => `${head}${REDACTED}`,
  ],
  // password=x, passwd: x, "token": "x", api_key = 'x', X-Api-Key: x
  [
    new RegExp(String.raw`\b(?<head>${SECRET_KEY}\\?["']?[ \t]*[:=][ \t]*)(?:${QUOTED}|[^\s'"&,;]+)`, 'gi'),
    ({ head, q }) => (q ? `${head}${q}${REDACTED}${q}` : `${head}${REDACTED}`),
  ],
  // password 'x' / PASSWORD "x" (PostgreSQL's messages and SQL)
  [new RegExp(String.raw`\b(?<head>passw(?:or)?d[ \t]+)${QUOTED}`, 'gi'), ({ head, q }) => `${head}${q}${REDACTED}${q}`],
  // A bearer token outside a header: long, and with a digit, unlike an English word.
  [/\b(?<head>Bearer[ \t]+)(?=[A-Za-z._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*/g, ({ head }) => `${head}${REDACTED}`],
  // AWS access key ids
  [/\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, () => REDACTED],
];

/** Masks values that look like secrets whoever printed them (docs/security.md lists them). */
export function maskSecretShapes(text: string): string {
  let out = text;
  for (const [shape, keep] of SHAPES) out = out.replace(shape, (...args) => keep(args.at(-1) as Record<string, string | undefined>));
  return out;
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
