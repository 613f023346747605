// Readiness and version probes over HTTP. The runbooks alert on readiness, not liveness,
// so waiting for a service means polling `health.ready` until it answers 2xx — or, with
// `health.readyCheck`, until it answers what readiness really looks like (many services
// answer 200 with an HTML page for any path). Probe headers may carry a token read from
// the env file: it is scrubbed from every message, and never logged or returned.
import { setTimeout as sleep } from 'node:timers/promises';
import { failure } from '../../domain/failures';
import type { DeploymentConfig } from '../../config';
import type { HealthProbe } from '../../domain/config-schema';
import type { ActivityDeps } from '../shared/deps';
import { beat } from '../shared/heartbeat';
import { reportProgress } from '../shared/progress-report';
import { formatSeconds } from '../../domain/transfer-progress';
import { fetchErrorText, fetchWithTimeout, matchHttpAnswer, parseJsonAnswer, readAnswer, valueAtPath } from '../../checks/http-match';
import { resolveRequestHeaders } from '../../checks/request-headers';
import { redactCredentials } from '../../domain/mask-credentials';

const POLL_MS = 250;
const REQUEST_TIMEOUT_MS = 2000;
const VERSION_TIMEOUT_MS = 5000;

export interface WaitForReadyInput {
  deployment: string;
  timeoutSeconds?: number;
  /** What the operation has done by now, for the failure message: e.g. `The restored data
   * is live; the previous data is kept as ledger_pre_restore_…`. No secrets. */
  leftState?: string;
}

/** The headers a probe sends, and the secret values among them (to scrub from messages). */
interface ProbeRequest {
  headers: Record<string, string>;
  scrub: (text: string) => string;
}

/** Header values from the probe's config: literals as they are, `fromEnv` from the env file. */
export function probeRequest(
  d: DeploymentConfig,
  key: 'readyCheck' | 'versionCheck',
  probe: HealthProbe | undefined,
): Promise<ProbeRequest> {
  return resolveRequestHeaders(d.envFile, `health.${key}.headers`, probe?.headers ?? {}, (m) => new HealthConfigError(m));
}

/** A probe that cannot be sent as configured: retrying cannot help. */
export class HealthConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `GET <url>`, credentials masked, for messages. */
function describeRequest(url: string): string {
  return `GET ${redactCredentials(url)}`;
}

export function healthActivities(deps: ActivityDeps) {
  return {
    /** Polls readiness until it answers 2xx (or matches `health.readyCheck`); fails
     * (non-retryable: the timeout was the budget) naming the URL, the last answer and what
     * the operation left, e.g. `ledger not ready after 30 s: 200 but an HTML page where
     * JSON was expected: <!doctype html>… (last answer of GET http://…/ready). <leftState>` */
    async waitForReady({ deployment, timeoutSeconds, leftState }: WaitForReadyInput): Promise<{ readyAfterMs: number }> {
      const d = deps.resolve(deployment);
      const url = d.health.ready;
      const expect = d.health.readyCheck ?? {};
      const left = leftState ? ` ${leftState}` : '';
      let request: ProbeRequest;
      try {
        request = await probeRequest(d, 'readyCheck', d.health.readyCheck);
      } catch (err) {
        throw failure('ConfigError', `${deployment}: ${(err as Error).message}.${left}`);
      }
      const budgetS = timeoutSeconds ?? d.health.timeoutSeconds;
      const started = Date.now();
      const deadline = started + budgetS * 1000;
      let last: string;
      for (let attempt = 1; ; attempt++) {
        beat({ attempt });
        reportProgress(
          `waiting for ready ${formatSeconds((Date.now() - started) / 1000)} of at most ${formatSeconds(budgetS)}, attempt ${attempt}` +
            (attempt > 1 ? `: ${request.scrub(last!)}` : ''),
        );
        try {
          // Never let the last request overrun the budget by more than one poll.
          const timeoutMs = Math.max(POLL_MS, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()));
          const match = matchHttpAnswer(
            await readAnswer(await fetchWithTimeout(url, { timeoutMs, headers: request.headers })),
            expect,
            160,
          );
          if (match.ok) {
            const readyAfterMs = Date.now() - started;
            deps.logger.info({ deployment, readyAfterMs }, 'service ready');
            return { readyAfterMs };
          }
          last = match.detail;
        } catch (err) {
          last = fetchErrorText(err);
        }
        if (Date.now() + POLL_MS >= deadline) break;
        await sleep(POLL_MS);
      }
      throw failure(
        'NotReady',
        request.scrub(`${deployment} not ready after ${budgetS} s: ${last} (last answer of ${describeRequest(url)}).${left}`),
      );
    },

    /** The version the running service reports (`health.versionField` of `health.version`,
     * which must match `health.versionCheck` if set), or null when no version endpoint is
     * configured or the field is absent. */
    async readServiceVersion({ deployment }: { deployment: string }): Promise<string | null> {
      const d = deps.resolve(deployment);
      const url = d.health.version;
      if (!url) return null;
      const request = await probeRequest(d, 'versionCheck', d.health.versionCheck);
      const fail = (detail: string) => new Error(request.scrub(`version endpoint (${describeRequest(url)}): ${detail}`));
      let answer;
      try {
        answer = await readAnswer(await fetchWithTimeout(url, { timeoutMs: VERSION_TIMEOUT_MS, headers: request.headers }));
      } catch (err) {
        throw fail(fetchErrorText(err));
      }
      const match = matchHttpAnswer(answer, d.health.versionCheck ?? {});
      if (!match.ok) throw fail(match.detail);
      const parsed = parseJsonAnswer(answer);
      if (!parsed.ok) throw fail(parsed.detail);
      const value = valueAtPath(parsed.body, d.health.versionField);
      return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
    },
  };
}
