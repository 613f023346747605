// The headers of an outgoing request as day2.yaml gives them: literals as they are, and
// `{ fromEnv, prefix }` read from the deployment's env file at the moment of sending, so a
// token never passes through a workflow, its history or a log. `scrub` removes those
// values from any text about the request (a detail, an error).
import type { HealthHeaderValue } from '../domain/config-schema';
import { readEnvFile } from '../envfile';

/** Shorter values are not hunted for in messages (they would match by chance). */
const MIN_SCRUB_LENGTH = 4;

export interface ResolvedHeaders {
  headers: Record<string, string>;
  scrub: (text: string) => string;
}

/** `where` names the headers in errors (`health.readyCheck.headers`); `fail` makes the
 * error a header that cannot be sent as configured throws. */
export async function resolveRequestHeaders(
  envFile: string,
  where: string,
  spec: Record<string, HealthHeaderValue>,
  fail: (message: string) => Error = (m) => new Error(m),
): Promise<ResolvedHeaders> {
  const entries = Object.entries(spec);
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  const env = entries.some(([, v]) => typeof v !== 'string') ? await readEnvFile(envFile) : new Map<string, string>();
  for (const [name, value] of entries) {
    if (typeof value === 'string') {
      headers[name] = value;
      continue;
    }
    const secret = env.get(value.fromEnv);
    if (!secret) throw fail(`${where}.${name}: ${value.fromEnv} is not set in ${envFile}`);
    if (/[\r\n\0]/.test(secret))
      throw fail(`${where}.${name}: ${value.fromEnv} in ${envFile} holds a line break, which no header value may`);
    headers[name] = `${value.prefix}${secret}`;
    secrets.push(secret);
  }
  const hunted = secrets.filter((s) => s.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  return { headers, scrub: (text) => hunted.reduce((t, secret) => t.replaceAll(secret, '[REDACTED]'), text) };
}
