// A fleet operation runs one per-deployment workflow on many deployments, in waves, with an
// error budget (AWS SSM Automation's rate control: canaries, max-concurrency, max-errors).
// Pure: the CLI parses and selects with it, the fleet workflow plans and judges with it.
import { BadInputError } from './errors';
import { queryNamed } from './message-definitions';
import type { CheckResult } from './types';

export const FLEET_OPERATIONS = ['upgrade', 'backup', 'rotate-api-key-secret', 'preflight'] as const;
export type FleetOperation = (typeof FLEET_OPERATIONS)[number];

/** How many of the fleet: an absolute count, or a percentage of the selected deployments. */
export type Budget = { count: number } | { percent: number };

/** "3" or "30%"; anything else is bad input naming the flag. */
export function parseBudget(text: string, flag: string): Budget {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  if (!m) throw new BadInputError(`${flag} '${text}' is not a count or a percentage`, `write e.g. ${flag} 3 or ${flag} 25%`);
  const n = Number(m[1]);
  if (m[2]) {
    if (n > 100) throw new BadInputError(`${flag} '${text}' is more than 100%`);
    return { percent: n };
  }
  return { count: n };
}

/** A percentage rounds down (never more errors or parallel runs than asked), but a
 * concurrency never drops below one, or the fleet could not move. */
export function budgetOf(budget: Budget, total: number, opts: { atLeastOne?: boolean } = {}): number {
  const n = 'count' in budget ? budget.count : Math.floor((budget.percent * total) / 100);
  return opts.atLeastOne ? Math.max(1, n) : n;
}

export interface FleetMember {
  name: string;
  host: string;
  labels: Record<string, string>;
}

export interface FleetSelector {
  deployments?: string[];
  /** Shell-style glob on names: `*` any run of characters, `?` one. */
  match?: string;
  all?: boolean;
  /** `key=value[,key=value]`: every pair must hold. */
  labels?: Record<string, string>;
}

/** "tier=gold,region=eu" → { tier: 'gold', region: 'eu' }. */
export function parseLabelSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new BadInputError(`label selector '${part}' is not key=value`, 'write e.g. --selector tier=gold,region=eu');
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (Object.keys(out).length === 0) throw new BadInputError('the label selector is empty', 'write e.g. --selector tier=gold');
  return out;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** The selected deployments in config order. Exactly one way of selecting; a name that is
 * not configured, or a selection that matches nothing, is bad input (nothing starts). */
export function selectFleet(members: readonly FleetMember[], sel: FleetSelector): FleetMember[] {
  const ways = [sel.deployments, sel.match, sel.all || undefined, sel.labels].filter((w) => w !== undefined);
  if (ways.length !== 1) {
    throw new BadInputError(
      ways.length === 0 ? 'no deployments selected' : 'more than one way of selecting deployments',
      'pass exactly one of --deployments a,b,c, --match GLOB, --selector key=value, --all',
    );
  }
  let chosen: FleetMember[];
  if (sel.deployments) {
    const known = new Set(members.map((m) => m.name));
    const unknown = sel.deployments.filter((d) => !known.has(d));
    if (unknown.length) {
      throw new BadInputError(`no deployment named ${unknown.join(', ')} in day2.yaml`, `configured: ${[...known].join(', ')}`);
    }
    const wanted = new Set(sel.deployments);
    chosen = members.filter((m) => wanted.has(m.name));
  } else if (sel.match !== undefined) {
    const re = globToRegExp(sel.match);
    chosen = members.filter((m) => re.test(m.name));
  } else if (sel.labels) {
    const want = Object.entries(sel.labels);
    chosen = members.filter((m) => want.every(([k, v]) => m.labels[k] === v));
  } else {
    chosen = [...members];
  }
  if (chosen.length === 0)
    throw new BadInputError('the selection matches no deployment', `configured: ${members.map((m) => m.name).join(', ')}`);
  return chosen;
}

export interface WavePlan {
  /** Wave 0 when canaries were asked for; the promote gate follows it. */
  canary: string[];
  waves: string[][];
}

/** Canaries first (the first N selected), then waves of at most `concurrency`. */
export function planWaves(names: readonly string[], canary: number, concurrency: number): WavePlan {
  if (concurrency < 1) throw new BadInputError('--max-concurrency must allow at least one deployment at a time');
  const canaries = names.slice(0, Math.min(canary, names.length));
  const rest = names.slice(canaries.length);
  const waves: string[][] = [];
  for (let i = 0; i < rest.length; i += concurrency) waves.push(rest.slice(i, i + concurrency));
  return { canary: canaries, waves };
}

/** The end state of one deployment in a fleet, named so an operator can act on it. */
export type MemberState =
  | 'pending' // not started yet
  | 'running'
  | 'waiting' // its deployment was busy; the fleet waits for it to be free
  | 'succeeded'
  | 'rolled-back' // an upgrade that failed and was rolled back by its own workflow
  | 'failed'
  | 'rejected'
  | 'skipped-busy' // another operation held the deployment (--if-busy skip)
  | 'cancelled'
  | 'untouched'; // never started: the fleet halted or was cancelled first

/** Counts against the error budget. */
export const isError = (s: MemberState) => s === 'failed' || s === 'rolled-back' || s === 'rejected';

/** A child's result → its state. Only an upgrade's `outcome` can say it did not do what was asked. */
export function stateOfResult(result: unknown): MemberState {
  const outcome = (result as { outcome?: string } | undefined)?.outcome;
  if (outcome === 'rolled-back') return 'rolled-back';
  if (outcome === 'failed') return 'failed';
  if (outcome === 'rejected') return 'rejected';
  return 'succeeded';
}

/** The error budget is crossed when errors exceed it (`--max-errors 0`: the first error halts). */
export const budgetCrossed = (errors: number, maxErrors: number) => errors > maxErrors;

export interface FleetRow {
  deployment: string;
  host: string;
  /** 0 is the canary wave when canaries were asked for. */
  wave: number;
  state: MemberState;
  workflowId?: string;
  runId?: string;
  startedAt?: string;
  endedAt?: string;
  /** Why it ended as it did (a rollback's reason, a failure, who held it busy). */
  detail?: string;
}

export interface FleetInput {
  fleetId: string;
  operation: FleetOperation;
  /** `pgbackrest`: the member's backup.method pgbackrest (its backups and pre-upgrade backups are pgBackRest's). */
  members: Array<{ name: string; host: string; pgbackrest?: { type: 'full' | 'diff' | 'incr' } }>;
  /** Target release of a fleet upgrade. */
  version?: string;
  canary: number;
  soakSeconds: number;
  promoteTimeoutSeconds: number;
  maxConcurrency: Budget;
  maxErrors: Budget;
  /** A deployment another operation holds: wait for it (up to busyWaitSeconds) or skip it. */
  ifBusy: 'wait' | 'skip';
  busyWaitSeconds: number;
  /** Continue-as-new between waves past this many history events (default 10,000). */
  historyLimit?: number;
  /** What an earlier run of this fleet did, when it continued as new. */
  carried?: {
    rows: FleetRow[];
    nextWave: number;
    promoted: boolean;
    steps: Array<{ name: string; status: 'pending' | 'running' | 'waiting' | 'done' | 'skipped' | 'failed'; detail?: string }>;
    halted?: string;
    runs: number;
  };
}

export interface FleetStatus {
  fleetId: string;
  operation: FleetOperation;
  version?: string;
  maxErrors: number;
  concurrency: number;
  canary: number;
  rows: FleetRow[];
  /** Why the fleet stopped starting deployments, when it did. */
  halted?: string;
  /** The canaries' verify checks, last round (names prefixed with the deployment). */
  canaryChecks?: CheckResult[];
  /** How many runs (continue-as-new) this fleet took so far. */
  runs: number;
  /** 'halted': the error budget was crossed, a canary failed or the promote gate said no. */
  outcome?: 'finished' | 'halted' | 'cancelled';
  /** The outcome in words, with the counts per state. */
  summary?: string;
}

export const fleetStatusQuery = queryNamed<FleetStatus>('fleetStatus');
