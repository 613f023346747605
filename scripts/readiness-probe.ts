// Measures how long a service is unavailable: polls its readiness URL every `everyMs`
// (default 100 ms) and adds up the time between the first failed answer of an outage and
// the next good one. Resolution is one polling interval.
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProbeReport {
  probes: number;
  failed: number;
  /** Total time not ready, in ms. */
  unavailableMs: number;
  /** Each outage: when it started (ms since the probe started) and how long it lasted. */
  outages: Array<{ atMs: number; ms: number }>;
}

export function startReadinessProbe(url: string, everyMs = 100): { stop(): Promise<ProbeReport> } {
  const report: ProbeReport = { probes: 0, failed: 0, unavailableMs: 0, outages: [] };
  const started = Date.now();
  let running = true;
  let downSince: number | undefined;

  const loop = (async () => {
    while (running) {
      const tick = Date.now();
      // A slow 200 is still available; only no answer within a second counts as down.
      const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
        async (r) => (await r.body?.cancel(), r.ok),
        () => false,
      );
      report.probes++;
      if (!ok) {
        report.failed++;
        downSince ??= tick;
      } else if (downSince !== undefined) {
        report.outages.push({ atMs: downSince - started, ms: tick - downSince });
        downSince = undefined;
      }
      await sleep(Math.max(0, tick + everyMs - Date.now()));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      if (downSince !== undefined) report.outages.push({ atMs: downSince - started, ms: Date.now() - downSince });
      report.unavailableMs = report.outages.reduce((sum, o) => sum + o.ms, 0);
      return report;
    },
  };
}
