// One HTTP answer and what it must look like: the matching that http checks and the health
// endpoints (readiness, version) share. Many services answer 200 with an HTML page for any
// path, so "2xx" alone says little; a status, a content type and JSON fields say more.
import { isDeepStrictEqual } from 'node:util';
import { redactCredentials } from '../domain/mask-credentials';

const REQUEST_TIMEOUT_MS = 2000;

/** What an answer must be. Every part is optional; none set means any 2xx. */
export interface HttpExpectation {
  /** Exact status; absent: any 2xx. */
  expectStatus?: number;
  /** Media type, e.g. `application/json` (parameters such as charset are ignored). */
  expectContentType?: string;
  /** Dotted JSON path → expected value (compared as JSON). */
  expectJson?: Record<string, unknown>;
}

export interface HttpAnswer {
  status: number;
  /** The Content-Type header, if any. */
  contentType: string | null;
  text: string;
}

export interface HttpMatch {
  ok: boolean;
  /** Short, one line, credentials masked; e.g. `200 but an HTML page where JSON was expected: <!doctype html>…`. */
  detail: string;
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Default GET. */
  method?: string;
  body?: string;
}

/** A request (GET unless told) with a per-request timeout, so one hung connection cannot eat the whole wait.
 * With headers (credentials, usually) a redirect is not followed: it could carry them to
 * another host. The 3xx is then the answer. */
export function fetchWithTimeout(url: string, timeoutMsOrOptions: number | RequestOptions = REQUEST_TIMEOUT_MS): Promise<Response> {
  const {
    timeoutMs = REQUEST_TIMEOUT_MS,
    headers = {},
    method = 'GET',
    body,
  } = typeof timeoutMsOrOptions === 'number' ? { timeoutMs: timeoutMsOrOptions } : timeoutMsOrOptions;
  const carriesHeaders = Object.keys(headers).length > 0;
  return fetch(url, { method, body, signal: AbortSignal.timeout(timeoutMs), headers, redirect: carriesHeaders ? 'manual' : 'follow' });
}

/** The whole answer, read. */
export async function readAnswer(res: Response): Promise<HttpAnswer> {
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** `connection refused` rather than undici's bare `fetch failed`. */
export function fetchErrorText(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer (request timed out)';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code) return `${code}${e.cause?.message ? ` (${redactCredentials(e.cause.message)})` : ''}`;
  return redactCredentials(e?.cause?.message ?? e?.message ?? String(err));
}

/** A body reduced to one short line, credentials masked: fit for an error or a detail. */
export function bodySnippet(text: string, maxChars = 160): string {
  const line = redactCredentials(text.replace(/\s+/g, ' ').trim());
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line;
}

/** `a.b.0.c` into parsed JSON; undefined when any step is missing. */
export function valueAtPath(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Does `answer` meet `expect`? Checked in order: status, content type, JSON fields; the
 * detail names the first thing that does not match, with a snippet of the body. */
export function matchHttpAnswer(answer: HttpAnswer, expect: HttpExpectation, snippetChars = 120): HttpMatch {
  const { status, text } = answer;
  const snippet = () => bodySnippet(text, snippetChars);
  const statusOk = expect.expectStatus === undefined ? status >= 200 && status < 300 : status === expect.expectStatus;
  if (!statusOk) {
    // Without an expected status, "not 2xx" goes without saying: the answer is the detail.
    const want = expect.expectStatus === undefined ? '' : `expected ${expect.expectStatus}, got `;
    return { ok: false, detail: `${want}${status} ${snippet()}`.trim() };
  }
  const got = mediaType(answer.contentType);
  if (expect.expectContentType && got !== mediaType(expect.expectContentType)) {
    const what = looksLikeHtml(answer) ? 'an HTML page' : `content type ${got ?? '(none)'}`;
    return { ok: false, detail: `${status} but ${what} where ${expect.expectContentType} was expected: ${snippet()}` };
  }
  const expected = Object.entries(expect.expectJson ?? {});
  if (expected.length === 0) return { ok: true, detail: expect.expectContentType ? `${status} ${got}` : `${status}` };
  const parsed = parseJsonAnswer(answer, snippetChars);
  if (!parsed.ok) return parsed;
  const body = parsed.body;
  for (const [path, want] of expected) {
    const value = valueAtPath(body, path);
    if (!isDeepStrictEqual(value, want)) {
      return { ok: false, detail: `${path}: expected ${json(want)}, got ${value === undefined ? '(absent)' : json(value)}` };
    }
  }
  return { ok: true, detail: `${status}, ${expected.map(([path, want]) => `${path} = ${json(want)}`).join(', ')}` };
}

/** The body as JSON, or a detail saying what it is instead (an HTML page, usually). */
export function parseJsonAnswer(answer: HttpAnswer, snippetChars = 120): { ok: true; body: unknown } | { ok: false; detail: string } {
  try {
    return { ok: true, body: JSON.parse(answer.text) };
  } catch {
    const what = looksLikeHtml(answer) ? 'an HTML page where JSON was expected' : 'not JSON';
    return { ok: false, detail: `${answer.status} but ${what}: ${bodySnippet(answer.text, snippetChars)}` };
  }
}

/** `text/html; charset=utf-8` → `text/html`. */
function mediaType(contentType: string | null | undefined): string | null {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type || null;
}

function looksLikeHtml(answer: HttpAnswer): boolean {
  const type = mediaType(answer.contentType);
  return type === 'text/html' || type === 'application/xhtml+xml' || /^\s*<(!doctype\s+html|html[\s>])/i.test(answer.text);
}

function json(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
