// The checks a gate, a restore's verification and preflight run: http, sql, command,
// metric. Every result is a short human detail; none echoes a URL, an env value or a DSN.
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import pg from 'pg';
import type { Check } from '../domain/config-schema';
import type { CheckResult } from '../domain/types';
import {
  fetchErrorText,
  fetchWithTimeout,
  matchHttpAnswer,
  parseJsonAnswer,
  readAnswer,
  valueAtPath,
  type HttpAnswer,
  type RequestOptions,
} from './http-match';
import { resolveRequestHeaders } from './request-headers';
import { redactCredentials } from '../domain/mask-credentials';
import { findSample, formatSample, parseMetricSelector } from './prometheus';
import { shorten } from './shorten';

export interface CheckContext {
  /** Needed by sql checks; read from the deployment's env file. */
  databaseUrl?: string;
  /** Named in the detail when the URL is missing. */
  databaseUrlVar?: string;
  /** Working directory of command checks (the deployment runtime's cwd). */
  cwd?: string;
  /** Where http checks' `fromEnv` header values are read. */
  envFile?: string;
  /** Told before each check and each poll: an activity heartbeats here, the approver does not. */
  heartbeat?: (details: unknown) => void;
}

const HTTP_TIMEOUT_MS = 5000;
const SQL_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_SECONDS = 60;

type Outcome = Omit<CheckResult, 'name'>;

/** Never throws: an exception becomes a failed result whose detail says why. */
export async function runCheck(check: Check, ctx: CheckContext = {}): Promise<CheckResult> {
  try {
    return { name: check.name, ...(await evaluate(check, ctx)) };
  } catch (err) {
    return { name: check.name, ok: false, detail: errorText(err) };
  }
}

/** All checks, one after the other (they may touch the same service), none skipped. */
export async function runChecks(checks: readonly Check[], ctx: CheckContext = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    ctx.heartbeat?.({ check: check.name });
    results.push(await runCheck(check, ctx));
  }
  return results;
}

function evaluate(check: Check, ctx: CheckContext): Promise<Outcome> {
  switch (check.kind) {
    case 'http':
      return httpCheck(check, ctx);
    case 'sql':
      return sqlCheck(check, ctx);
    case 'command':
      return commandCheck(check, ctx);
    case 'metric':
      return metricCheck(check);
  }
}

async function get(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  try {
    return await readAnswer(await fetchWithTimeout(url, { timeoutMs: HTTP_TIMEOUT_MS, ...options }));
  } catch (err) {
    // No cause: the raw error may name the URL with its credentials; its text is scrubbed.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(fetchErrorText(err));
  }
}

type HttpCheck = Extract<Check, { kind: 'http' }>;

/** One request (any method, headers from the env file, a body), its answer matched; with
 * `poll`, then the job it started polled until it says it is done. Header values from the
 * env file are scrubbed from the detail. */
async function httpCheck(check: HttpCheck, ctx: CheckContext): Promise<Outcome> {
  if (check.headers && !ctx.envFile && Object.values(check.headers).some((v) => typeof v !== 'string')) {
    return { ok: false, detail: 'headers from the env file, but no env file is known here' };
  }
  const { headers, scrub } = await resolveRequestHeaders(ctx.envFile ?? '', `${check.name}: headers`, check.headers ?? {});
  const json = check.body !== undefined && typeof check.body !== 'string';
  if (json && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const body = check.body === undefined ? undefined : json ? JSON.stringify(check.body) : (check.body as string);
  try {
    const answer = await get(check.url, { method: check.method, headers, body });
    const first = matchHttpAnswer(answer, check);
    if (!first.ok || !check.poll) return scrubbed(first, scrub);
    return scrubbed(await pollJob(check, check.poll, headers, answer, ctx), scrub);
  } catch (err) {
    // No cause: it would carry the unscrubbed text (env-file values) into history.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(scrub(errorText(err)));
  }
}

const scrubbed = (o: Outcome, scrub: (t: string) => string): Outcome => ({ ...o, detail: scrub(o.detail) });

/** GETs the URL the first answer names (same origin: the headers go there too) every
 * `everySeconds` until its answer holds `until` (done), or `failWhen` (failed), or the time
 * is up; answers in between (not 2xx, not yet done) are the detail a timeout reports. */
async function pollJob(
  check: HttpCheck,
  poll: NonNullable<HttpCheck['poll']>,
  headers: Record<string, string>,
  answer: HttpAnswer,
  ctx: CheckContext,
): Promise<Outcome> {
  const parsed = parseJsonAnswer(answer);
  if (!parsed.ok) return { ok: false, detail: `poll: ${parsed.detail}` };
  const named = valueAtPath(parsed.body, poll.urlField);
  if (typeof named !== 'string' || !named)
    return {
      ok: false,
      detail: `poll: ${poll.urlField} is ${named === undefined ? 'absent from' : 'not a URL in'} the answer (${answer.status})`,
    };
  let jobUrl: URL;
  try {
    jobUrl = new URL(named, check.url);
  } catch {
    return { ok: false, detail: `poll: ${poll.urlField} is not a URL: ${shorten(named, 80)}` };
  }
  if (jobUrl.origin !== new URL(check.url).origin) {
    return {
      ok: false,
      detail: `poll: ${poll.urlField} points to another origin (${jobUrl.origin}): not polled, the check's headers would go there`,
    };
  }
  const started = Date.now();
  const deadline = started + poll.timeoutSeconds * 1000;
  let last: string;
  for (let polls = 1; ; polls++) {
    await sleep(Math.min(poll.everySeconds * 1000, Math.max(0, deadline - Date.now())));
    ctx.heartbeat?.({ check: check.name, polls });
    try {
      const polled = await get(jobUrl.toString(), { headers });
      if (poll.failWhen && matchHttpAnswer(polled, { expectJson: poll.failWhen }).ok) {
        return {
          ok: false,
          detail: `job failed after ${seconds(started)} s: ${matchHttpAnswer(polled, { expectJson: poll.failWhen }).detail}`,
        };
      }
      const done = matchHttpAnswer(polled, { expectJson: poll.until });
      if (done.ok) return { ok: true, detail: `${answer.status}, job done after ${seconds(started)} s (${polls} polls): ${done.detail}` };
      last = done.detail;
    } catch (err) {
      last = errorText(err);
    }
    if (Date.now() >= deadline)
      return { ok: false, detail: `job not done after ${poll.timeoutSeconds} s (${polls} polls); last answer: ${last}` };
  }
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

async function sqlCheck(check: Extract<Check, { kind: 'sql' }>, ctx: CheckContext): Promise<Outcome> {
  if (!ctx.databaseUrl)
    return { ok: false, detail: `no database URL (${ctx.databaseUrlVar ?? 'DATABASE_URL'} is not set in the env file)` };
  const client = new pg.Client({
    connectionString: ctx.databaseUrl,
    connectionTimeoutMillis: SQL_TIMEOUT_MS,
    query_timeout: SQL_TIMEOUT_MS,
    statement_timeout: SQL_TIMEOUT_MS,
  });
  client.on('error', () => {}); // a dropped connection must not crash the worker
  try {
    await client.connect().catch((err: Error) => {
      throw new Error(`cannot connect: ${err.message}`);
    });
    // Raw text as the server sends it: no parsing of numbers, dates or JSON.
    const result = await client.query({ text: check.query, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    if (result.rows.length === 0) return { ok: false, detail: `no rows (expected ${json(check.expect)})` };
    const raw = (result.rows[0] as unknown[])[0];
    const value = result.fields[0]?.dataTypeID === BOOL_OID ? booleanText(raw) : raw;
    if (value === null || value === undefined) return { ok: false, detail: `expected ${json(check.expect)}, got NULL` };
    const text = String(value);
    return text === check.expect
      ? { ok: true, detail: `= ${json(text)}` }
      : { ok: false, detail: `expected ${json(check.expect)}, got ${json(shorten(text))}` };
  } finally {
    await client.end().catch(() => {});
  }
}

// Postgres prints booleans as t/f; `expect: "true"` is what a person writes.
const BOOL_OID = 16;
function booleanText(raw: unknown): unknown {
  return raw === 't' ? 'true' : raw === 'f' ? 'false' : raw;
}

async function commandCheck(check: Extract<Check, { kind: 'command' }>, ctx: CheckContext): Promise<Outcome> {
  // Its own process group, so a timeout ends what the shell started too (a `sleep` left
  // behind would hold the output open, and the check, until it ended by itself).
  const child = execa(check.command, { shell: true, cwd: ctx.cwd, all: true, reject: false, stdin: 'ignore', detached: true });
  const limitSeconds = check.timeoutSeconds ?? COMMAND_TIMEOUT_SECONDS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, limitSeconds * 1000);
  const result = await child.finally(() => clearTimeout(timer));
  if (timedOut) return { ok: false, detail: `timed out after ${limitSeconds} s (timeoutSeconds)` };
  const lines = String(result.all ?? '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const lastLine = shorten(redactCredentials(lines[lines.length - 1]?.trim() ?? ''));
  const exitCode = result.exitCode;
  if (exitCode === undefined)
    return { ok: false, detail: `could not run: ${shorten(redactCredentials(result.shortMessage ?? 'unknown error'))}` };
  const ok = exitCode === check.expectExitCode;
  const want = ok ? '' : ` (expected ${check.expectExitCode})`;
  return { ok, detail: `exit ${exitCode}${want}${lastLine ? `: ${lastLine}` : ''}` };
}

async function metricCheck(check: Extract<Check, { kind: 'metric' }>): Promise<Outcome> {
  const { status, text } = await get(check.url);
  if (status < 200 || status >= 300) return { ok: false, detail: `metrics endpoint answered ${status}` };
  const selector = parseMetricSelector(check.metric);
  const found = findSample(text, selector);
  if ('problem' in found) return { ok: false, detail: found.problem };
  const ok = compare(found.sample.value, check.op, check.value);
  return { ok, detail: `${formatSample(found.sample)}${ok ? '' : `, want ${check.op} ${check.value}`}` };
}

function compare(actual: number, op: Extract<Check, { kind: 'metric' }>['op'], expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
  }
}

function json(value: unknown): string {
  return shorten(JSON.stringify(value) ?? String(value));
}

function errorText(err: unknown): string {
  return shorten(redactCredentials(err instanceof Error ? err.message : String(err)), 200);
}
