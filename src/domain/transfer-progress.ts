// How far a long dump or restore is, as people read it: `1.2 GiB of ~3.4 GiB, 85 MiB/s,
// ~26 s left` (bytes), `412 of 980 items, ~9 s left` (a restore's table of contents). Pure:
// the activities put it in their heartbeats (the Web UI's pending activity shows it) and
// the CLI's live line prints it.
import { formatBytes } from './human-bytes';

/** What a dump or restore activity heartbeats. `total` is an estimate (`~`) for a dump. */
export interface TransferProgress {
  phase: 'dump' | 'restore' | 'verify';
  unit: 'bytes' | 'items';
  done: number;
  total?: number;
  /** Milliseconds since the transfer started. */
  elapsedMs: number;
  /** `done`/`total` rendered by describeTransfer, for readers that do not render. */
  text: string;
}

function describeTransfer(p: Omit<TransferProgress, 'text'>): string {
  const rate = p.elapsedMs > 500 ? p.done / (p.elapsedMs / 1000) : undefined;
  const left = rate && p.total && p.total > p.done ? (p.total - p.done) / rate : undefined;
  const parts =
    p.unit === 'bytes'
      ? [`${formatBytes(p.done)}${p.total ? ` of ~${formatBytes(p.total)}` : ''}`, ...(rate ? [`${formatBytes(rate)}/s`] : [])]
      : [`${p.done} of ${p.total ?? '?'} items`];
  if (left !== undefined) parts.push(`~${formatSeconds(left)} left`);
  return parts.join(', ');
}

export function transferProgress(p: Omit<TransferProgress, 'text'>): TransferProgress {
  return { ...p, text: describeTransfer(p) };
}

export function formatSeconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A heartbeat's details, if they are a TransferProgress. */
export function asTransferProgress(details: unknown): TransferProgress | undefined {
  const p = details as Partial<TransferProgress> | undefined;
  return p && typeof p === 'object' && typeof p.text === 'string' && typeof p.done === 'number' ? (p as TransferProgress) : undefined;
}

/** `running 2 min of at most 30 min`: what a long activity without a progress of its own
 * (a migration, a pull) says; `limitMs` 0 is no limit. */
export function elapsedOfLimit(elapsedMs: number, limitMs: number): string {
  const elapsed = `running ${formatSeconds(elapsedMs / 1000)}`;
  return limitMs > 0 ? `${elapsed} of at most ${formatSeconds(limitMs / 1000)}` : elapsed;
}
