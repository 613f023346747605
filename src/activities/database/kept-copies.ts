// Every restore (and so every rollback) keeps the data it replaced: the old database
// renamed to `<db>_pre_restore_<stamp>`, or, where the role cannot create databases, a
// safety dump `<deployment>-pre-restore-<stamp>.dump` beside the backups. That is the
// undo, and nothing removes it by itself: this counts what is kept and how much space it
// takes, so a restore's result and preflight can say so before the disk fills.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError } from '../../domain/errors';
import { formatBytes } from '../../domain/human-bytes';
import { keptDatabasePattern, safetyDumpPattern, stampTime } from '../../domain/kept-copy-names';
import type { CheckResult, CleanupResult, KeptCopies, KeptCopy } from '../../domain/types';
import { databaseTargetOf, withClient } from '../shared/pg-connection';
import { dropScratchDatabase } from './restore-staging';

/** `LIKE` pattern for `<live>_pre_restore_…`, with the name's own `_` and `%` escaped. */
const likeEscaped = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function keptCopiesOf(d: DeploymentConfig, deployment: string): Promise<KeptCopies> {
  const target = await databaseTargetOf(d);
  const databases = await withClient(target.adminUrl, async (client) => {
    const { rows } = await client.query<{ datname: string; bytes: string }>(
      `SELECT datname, pg_database_size(datname) AS bytes FROM pg_database WHERE datname LIKE $1 ESCAPE '\\' ORDER BY datname`,
      [`${likeEscaped(target.liveName)}\\_pre\\_restore\\_%`],
    );
    return rows.map((r): KeptCopy => ({
      kind: 'database',
      name: r.datname,
      bytes: Number(r.bytes),
      keptAt: keptAtOf(keptDatabasePattern(target.liveName), r.datname),
    }));
  });
  const prefix = `${deployment}-pre-restore-`;
  const names = await readdir(d.backup.dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
  const dumps = await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && n.endsWith('.dump'))
      .sort()
      .map(async (name): Promise<KeptCopy> => ({
        kind: 'safety-dump',
        name,
        bytes: (await stat(path.join(d.backup.dir, name))).size,
        keptAt: keptAtOf(safetyDumpPattern(deployment), name),
      })),
  );
  const copies = [...databases, ...dumps];
  return { count: copies.length, bytes: copies.reduce((sum, c) => sum + c.bytes, 0), copies };
}

/** "2 kept copies of replaced data (1.2 GiB): ledger_pre_restore_…, …" */
export function describeKeptCopies(kept: KeptCopies): string {
  if (!kept.count) return 'no kept copies of replaced data';
  return `${kept.count} kept ${kept.count === 1 ? 'copy' : 'copies'} of replaced data (${formatBytes(kept.bytes)}): ${kept.copies.map((c) => c.name).join(', ')}`;
}

/** Preflight's look: passes, with a warning once more than `warnAt` copies are kept. */
export async function keptCopiesCheck(d: DeploymentConfig, deployment: string): Promise<CheckResult> {
  const name = 'kept copies of replaced data';
  const kept = await keptCopiesOf(d, deployment);
  const warnAt = d.backup.warnKeptCopies;
  if (kept.count <= warnAt) return { name, ok: true, detail: describeKeptCopies(kept) };
  return {
    name,
    ok: true,
    warning: true,
    detail:
      `${describeKeptCopies(kept)} — more than backup.warnKeptCopies (${warnAt}): drop the ones you no longer need ` +
      `(DROP DATABASE …; rm the safety dumps) to free the space`,
  };
}

const keptAtOf = (pattern: RegExp, name: string) => {
  const stamp = pattern.exec(name)?.[1];
  return stamp ? stampTime(stamp) : undefined;
};

/** `day2 cleanup`: drops exactly the named kept copies. Each name must be one of this
 * deployment's kept copies by its shape, as `keptCopiesOf` finds them (`<live>_pre_restore_…`,
 * or `<deployment>-pre-restore-….dump` in the backup directory): never the live database, a
 * backup, or anything else. Idempotent: a name already gone is reported as such. */
export async function dropKeptCopies(d: DeploymentConfig, deployment: string, names: readonly string[]): Promise<CleanupResult> {
  const target = await databaseTargetOf(d);
  const isDatabase = (n: string) => n.startsWith(`${target.liveName}_pre_restore_`);
  const isDump = (n: string) => n.startsWith(`${deployment}-pre-restore-`) && n.endsWith('.dump') && !/[/\\]/.test(n);
  const foreign = names.filter((n) => (!isDatabase(n) && !isDump(n)) || n === target.liveName);
  if (foreign.length) {
    throw new BadInputError(
      `not kept copies of ${deployment}'s replaced data: ${foreign.join(', ')}`,
      `cleanup drops only ${target.liveName}_pre_restore_<stamp> databases and ${deployment}-pre-restore-<stamp>.dump files`,
    );
  }
  const present = new Map((await keptCopiesOf(d, deployment)).copies.map((c) => [c.name, c]));
  const result: CleanupResult = { dropped: [], alreadyGone: [] };
  for (const name of names) {
    const copy = present.get(name);
    if (!copy) {
      result.alreadyGone.push(name);
      continue;
    }
    if (copy.kind === 'database') await dropScratchDatabase(target, name);
    else await rm(path.join(d.backup.dir, name), { force: true });
    result.dropped.push(copy);
  }
  return result;
}
