// The staleness gauge: when an operation last succeeded, per deployment and operation, so
// Prometheus can alert on a backup (or drill, or off-site copy) that stopped happening
// (docs/alerts.md). Set by the workflow that succeeded (workflows/notify.ts) and recovered
// from Temporal's visibility when a worker starts (src/last-success-recovery.ts); both
// must compute the same value from the same fact, so it lives here.

export const LAST_SUCCESS_GAUGE = {
  name: 'day2_last_success_timestamp_seconds',
  description: 'Unix time (seconds) at which the newest successful run of the operation started',
} as const;

/** The run's start, not its end: for a backup that is when its data is from (the time its
 * file is named after), and visibility keeps it exactly, so a restarted worker recovers
 * the very value the workflow set. */
export const lastSuccessSeconds = (runStartedAt: Date): number => Math.floor(runStartedAt.getTime() / 1000);
