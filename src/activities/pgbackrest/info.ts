// `pgbackrest info --output=json`, read into day2's shape (src/domain/pgbackrest.ts).
import type { PgbackrestBackup, PgbackrestConfig, PgbackrestRepoState } from '../../domain/pgbackrest';
import { pgbackrest } from './run';

interface InfoJson {
  name: string;
  status: { code: number; message: string; lock?: { backup?: { held?: boolean } } };
  archive?: Array<{ min?: string; max?: string }>;
  backup?: Array<{
    label: string;
    type: 'full' | 'diff' | 'incr';
    prior: string | null;
    annotation?: Record<string, string>;
    archive: { start: string; stop: string };
    lsn: { start: string; stop: string };
    info: { size: number; repository: { delta: number; size: number } };
    timestamp: { start: number; stop: number };
    error?: boolean;
  }>;
}

export function parseInfo(json: string, stanza: string): PgbackrestRepoState {
  const all = JSON.parse(json) as InfoJson[];
  const info = all.find((s) => s.name === stanza);
  if (!info) return { backups: [], backupRunning: false };
  const archive = info.archive?.at(-1);
  return {
    backups: (info.backup ?? []).map(toBackup),
    walMin: archive?.min,
    walMax: archive?.max,
    backupRunning: Boolean(info.status.lock?.backup?.held),
  };
}

function toBackup(b: NonNullable<InfoJson['backup']>[number]): PgbackrestBackup {
  return {
    label: b.label,
    type: b.type,
    startedAt: new Date(b.timestamp.start * 1000).toISOString(),
    stoppedAt: new Date(b.timestamp.stop * 1000).toISOString(),
    lsnStart: b.lsn.start,
    lsnStop: b.lsn.stop,
    walStart: b.archive.start,
    walStop: b.archive.stop,
    sizeBytes: b.info.size,
    repoSizeBytes: b.info.repository.delta,
    prior: b.prior ?? undefined,
    annotations: b.annotation ?? {},
  };
}

/** The system identifier the repository's stanza was made for (its newest database entry),
 * or undefined when the stanza does not exist yet. Read from the text: the 64-bit
 * identifier does not survive JSON.parse's doubles. */
export async function repoSystemId(c: PgbackrestConfig): Promise<string | undefined> {
  const { stdout, exitCode } = await pgbackrest(c, 'info', ['--output=json'], { reject: false });
  if (exitCode !== 0) return undefined;
  return [...stdout.matchAll(/"system-id"\s*:\s*(\d+)/g)].at(-1)?.[1];
}

export async function repoState(c: PgbackrestConfig): Promise<PgbackrestRepoState> {
  const { stdout } = await pgbackrest(c, 'info', ['--output=json']);
  return parseInfo(stdout, c.stanza);
}
