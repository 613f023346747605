// The names restores keep replaced data under (src/workflows/restore.ts), and when each was
// kept, read back from the stamp in the name (`compactStamp` of the restore's start, UTC).
const STAMP = '(\\d{14})';
const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const keptDatabasePattern = (liveDatabase: string) => new RegExp(`^${escaped(liveDatabase)}_pre_restore_${STAMP}$`);
export const safetyDumpPattern = (deployment: string) => new RegExp(`^${escaped(deployment)}-pre-restore-${STAMP}\\.dump$`);

/** `20261122110400` → its time (ISO), or undefined for a stamp that is not one. */
export function stampTime(stamp: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (!m) return undefined;
  const at = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** `14d`, `36h`, `90m`, `2w` → seconds. */
export function parseAge(text: string): number | undefined {
  const m = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { m: 60, h: 3600, d: 86400, w: 7 * 86400 }[m[2] as 'm' | 'h' | 'd' | 'w'];
}

/** `3d 4h`, `5h`, `12m`: how old, to the unit that matters. */
export function humanAge(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  if (d) return h ? `${d}d ${h}h` : `${d}d`;
  if (h) return `${h}h`;
  return `${Math.max(0, Math.floor(seconds / 60))}m`;
}
