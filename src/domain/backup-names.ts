// Backup files are bare names inside the deployment's backup directory. A name with a
// slash, `..` or a leading dot is refused before anything touches the disk.
import { BadInputError } from './errors';

const BARE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function assertBareFileName(name: string): string {
  if (!name || name.includes('/') || name.includes('\\') || name.includes('..') || !BARE_NAME.test(name)) {
    throw new BadInputError(
      `backup name '${name}' is not a bare file name`,
      'give the name of a file in the backup directory (no "/", no "..", see `day2 backups`)',
    );
  }
  return name;
}

/** `2026-11-22-110400` (UTC): the runbooks' stamp for file names. */
export function utcStamp(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${at.getUTCFullYear()}-${p(at.getUTCMonth() + 1)}-${p(at.getUTCDate())}-` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`
  );
}

/** `ledger-2026-11-22-110400.dump`, from the workflow's start time (deterministic). */
export function backupFileName(deployment: string, at: Date): string {
  return `${deployment}-${utcStamp(at)}.dump`;
}

export const manifestNameFor = (backupFile: string) => `${backupFile}.manifest.json`;
