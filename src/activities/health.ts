// Readiness and version probes over HTTP. The runbooks alert on readiness, not liveness,
// so waiting for a service means polling `health.ready` until it answers 2xx.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { deploymentOf } from '../config';
import type { ActivityDeps } from './deps';
import { beat } from './heartbeat';
import { redactCredentials } from './runtime/adapter';

const POLL_MS = 250;
const REQUEST_TIMEOUT_MS = 2000;

/** GET with a per-request timeout, so one hung connection cannot eat the whole wait. */
export function fetchWithTimeout(url: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
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

export function healthActivities(deps: ActivityDeps) {
  return {
    /** Polls readiness until 2xx; fails (non-retryable: the timeout was the budget) with the
     * last answer, e.g. `ledger not ready after 30 s: 503 {"reason":"database"}`. */
    async waitForReady({ deployment, timeoutSeconds }: { deployment: string; timeoutSeconds?: number }): Promise<{ readyAfterMs: number }> {
      const d = deploymentOf(deps.config, deployment);
      const budgetS = timeoutSeconds ?? d.health.timeoutSeconds;
      const started = Date.now();
      const deadline = started + budgetS * 1000;
      let last = 'no answer yet';
      for (let attempt = 1; ; attempt++) {
        beat({ attempt });
        try {
          // Never let the last request overrun the budget by more than one poll.
          const requestMs = Math.max(POLL_MS, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()));
          const res = await fetchWithTimeout(d.health.ready, requestMs);
          if (res.ok) {
            await res.body?.cancel();
            const readyAfterMs = Date.now() - started;
            deps.logger.info({ deployment, readyAfterMs }, 'service ready');
            return { readyAfterMs };
          }
          last = `${res.status} ${bodySnippet(await res.text())}`.trim();
        } catch (err) {
          last = fetchErrorText(err);
        }
        if (Date.now() + POLL_MS >= deadline) break;
        await sleep(POLL_MS);
      }
      throw ApplicationFailure.create({
        type: 'NotReady',
        message: `${deployment} not ready after ${budgetS} s: ${last}`,
        nonRetryable: true,
      });
    },

    /** The version the running service reports (`health.versionField` of `health.version`),
     * or null when no version endpoint is configured or the field is absent. */
    async readServiceVersion({ deployment }: { deployment: string }): Promise<string | null> {
      const d = deploymentOf(deps.config, deployment);
      if (!d.health.version) return null;
      let res: Response;
      try {
        res = await fetchWithTimeout(d.health.version, 5000);
      } catch (err) {
        throw new Error(`version endpoint: ${fetchErrorText(err)}`);
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`version endpoint answered ${res.status} ${bodySnippet(text)}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`version endpoint did not answer JSON: ${bodySnippet(text)}`);
      }
      const value = valueAtPath(body, d.health.versionField);
      return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
    },
  };
}
