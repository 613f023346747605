// What an operation that Temporal calls COMPLETED really did. A workflow completes when it
// ran to its end, and an upgrade that ended rolled back, failed, or was rejected at a gate
// ran to its end too: the starting command, `day2 status` and `day2 list` all say which,
// with the same words, so nobody reads "COMPLETED" over a rollback.
import type { UpgradeResult } from '../domain/release-types';
import type { AssertNone, ResultOf } from './workflow-types';

export interface Verdict {
  /** Temporal's status, or ROLLED_BACK / FAILED / REJECTED where the result says so. */
  status: string;
  /** The account of what happened, when it did not do what was asked. */
  error?: string;
}

export function verdictOf(type: string | undefined, deployment: string, status: string, result: unknown): Verdict {
  const outcome = (result as { outcome?: string } | undefined)?.outcome;
  if (status !== 'COMPLETED' || !outcome) return { status };
  if (type === 'upgrade' && outcome !== 'upgraded') {
    const r = result as UpgradeResult;
    const named = { 'rolled-back': 'ROLLED_BACK', failed: 'FAILED', rejected: 'REJECTED' } as const;
    return { status: named[r.outcome as keyof typeof named] ?? 'FAILED', error: upgradeVerdict(deployment, r) };
  }
  if (outcome === 'rejected') return { status: 'REJECTED' };
  return { status };
}

function upgradeVerdict(deployment: string, r: UpgradeResult): string {
  if (r.outcome === 'rolled-back' && r.rollback) {
    return (
      `the upgrade of ${deployment} to ${r.to} failed and was rolled back to ${r.from} — ${r.reason}. ` +
      `Data restored from ${r.rollback.backup}; the failed database is kept as ${r.rollback.keptAs}.`
    );
  }
  if (r.outcome === 'rejected') return `the upgrade of ${deployment} to ${r.to} was not started — ${r.reason}. Nothing was changed.`;
  return `the upgrade of ${deployment} to ${r.to} failed — ${r.reason}`;
}

/** Workflow types whose result never changes what their status says (verdictOf reads
 * only an upgrade's outcome and 'rejected'): their rows are listed without reading
 * their results, one request fewer per row (a cron'd backup fills the list with these). */
const VERDICT_FREE_TYPES = ['backup', 'scheduledBackup', 'scheduledDrill'] as const;
// Fails to compile the day one of them can end 'rejected': then it must be read again.
export type VerdictFreeTypesAreNeverRejected = AssertNone<Extract<ResultOf<(typeof VERDICT_FREE_TYPES)[number]>['outcome'], 'rejected'>>;
export const verdictNeedsResult = (type: string) => !(VERDICT_FREE_TYPES as readonly string[]).includes(type);
