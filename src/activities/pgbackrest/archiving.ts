// WAL archiving: the stanza's config file, archive_mode / archive_command / archive_timeout
// by ALTER SYSTEM (a reload applies the command; archive_mode and wal_level need the
// restart the workflow asks for at a gate), and how healthy archiving is (pg_stat_archiver).
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import { BadInputError } from '../../domain/errors';
import type { ArchivingHealth, ClusterFacts, PgbackrestConfig } from '../../domain/pgbackrest';
import { writeFileAtomic } from '../../lib/atomic-file';
import { readEnvFile } from '../../envfile';
import { databaseTargetOf, quoteLiteral, withClient } from '../shared/pg-connection';
import { offsitePrefix } from '../../domain/offsite';
import { repoSystemId } from './info';
import { archiveCommandOf, clusterOwner, configFileOf } from './run';

/** The stanza's pgbackrest.conf, rewritten only when it differs (the passphrase comes from
 * the env file and stays in this file, readable by the cluster's user alone). */
export async function writePgbackrestConf(
  d: DeploymentConfig,
  deployment: string,
  c: PgbackrestConfig,
  facts: Pick<ClusterFacts, 'port' | 'socketPath' | 'systemId'>,
): Promise<{ file: string; changed: boolean }> {
  const owner = clusterOwner(c.dataDir);
  const lockPath = path.join(c.repoPath, '.day2-lock');
  for (const dir of [c.repoPath, lockPath]) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
    }
  }
  const env = await readEnvFile(d.envFile);
  let cipher: string[] = [];
  if (c.cipherPassVar) {
    const pass = env.get(c.cipherPassVar);
    if (!pass)
      throw new BadInputError(
        `${c.cipherPassVar} (backup.pgbackrest.cipherPassVar) is not set in ${d.envFile}`,
        'put the repository passphrase there (e.g. openssl rand -base64 48)',
      );
    cipher = ['repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${pass}`];
  }
  const text = [
    '# Written by day2 (backup.pgbackrest in day2.yaml); edits are overwritten.',
    '[global]',
    ...repoLines(d, deployment, c, env),
    `repo1-retention-full=${c.retentionFull}`,
    ...cipher,
    `process-max=${c.processMax}`,
    `compress-type=${c.compressType}`,
    'start-fast=y',
    'log-level-console=info',
    'log-level-file=off',
    `lock-path=${lockPath}`,
    `archive-timeout=${Math.max(60, c.archiveTimeout)}`,
    '',
    `[${c.stanza}]`,
    `pg1-path=${c.dataDir}`,
    `pg1-port=${facts.port}`,
    `pg1-socket-path=${facts.socketPath}`,
    '',
  ].join('\n');
  const file = configFileOf(c);
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return { file, changed: false };
  mkdirSync(path.dirname(file), { recursive: true });
  // archive_command reads this file: a repository holding another cluster's stanza is
  // refused before the live archiving is pointed at it.
  const trial = `${file}.day2-trial`;
  await writeConf(trial, text, owner);
  try {
    await assertStanzaBelongsHere(c, trial, facts.systemId);
  } finally {
    rmSync(trial, { force: true });
  }
  await writeConf(file, text, owner);
  return { file, changed: true };
}

/** repo1's options: a local path, or the off-site bucket (credentials from the env file). */
function repoLines(d: DeploymentConfig, deployment: string, c: PgbackrestConfig, env: Map<string, string>): string[] {
  if (c.repo === 'local') return [`repo1-path=${c.repoPath}`];
  const o = d.backup.offsite;
  if (!o)
    throw new BadInputError(
      'backup.pgbackrest.repo: offsite needs backup.offsite (the S3 bucket)',
      'configure backup.offsite, or use repo: local',
    );
  const url = new URL(o.endpoint ?? `https://s3.${o.region}.amazonaws.com`);
  if (url.protocol !== 'https:')
    throw new BadInputError(
      `pgBackRest reaches S3 over TLS only, and backup.offsite.endpoint is ${url.origin}`,
      'serve the bucket over https (a private CA goes in backup.pgbackrest.s3CaFile), or use repo: local',
    );
  const secret = (name: string) => {
    const v = env.get(name);
    if (!v) throw new BadInputError(`${name} (backup.offsite) is not set in ${d.envFile}`, 'put the bucket credentials there');
    if (/[\r\n]/.test(v)) throw new BadInputError(`${name} in ${d.envFile} holds a line break`, 'fix the credential');
    return v;
  };
  return [
    'repo1-type=s3',
    `repo1-path=/${offsitePrefix(deployment, o)}pgbackrest`,
    `repo1-s3-bucket=${o.bucket}`,
    `repo1-s3-endpoint=${url.hostname}`,
    `repo1-storage-port=${url.port || 443}`,
    `repo1-s3-region=${o.region}`,
    `repo1-s3-uri-style=${o.forcePathStyle ? 'path' : 'host'}`,
    `repo1-s3-key=${secret(o.accessKeyIdVar)}`,
    `repo1-s3-key-secret=${secret(o.secretAccessKeyVar)}`,
    ...(c.s3CaFile ? [`repo1-storage-ca-file=${c.s3CaFile}`] : []),
  ];
}

/** Where the repository is, for messages. */
export const repoWhere = (c: PgbackrestConfig) => (c.repo === 'offsite' ? 'the off-site bucket' : c.repoPath);

async function writeConf(file: string, text: string, owner: { uid?: number; gid?: number }): Promise<void> {
  await writeFileAtomic(file, text, 0o600);
  if (owner.uid !== undefined) chownSync(file, owner.uid, owner.gid!);
}

/** A stanza already in the repository must have been made for this cluster (same system identifier). */
async function assertStanzaBelongsHere(c: PgbackrestConfig, configFile: string, systemId: string): Promise<void> {
  const theirs = await repoSystemId({ ...c, configFile });
  if (theirs === undefined || theirs === systemId) return;
  throw new BadInputError(
    `the stanza '${c.stanza}' in ${repoWhere(c)} belongs to another PostgreSQL cluster (system identifier ${theirs}; this cluster's is ${systemId})`,
    'give this cluster its own backup.pgbackrest.stanza or repoPath; nothing was changed (archiving still goes where it went)',
  );
}

export interface ArchivingChange {
  changed: string[];
  /** Settings that take effect only after a restart. */
  needsRestart: string[];
}

/** Sets what archiving needs by ALTER SYSTEM and reloads; an archive_command someone else
 * set is refused, never overwritten. A second call finds nothing to change. */
export async function configureArchiving(d: DeploymentConfig, c: PgbackrestConfig, facts: ClusterFacts): Promise<ArchivingChange> {
  const wanted = archiveCommandOf(c);
  if (facts.archiveCommand && facts.archiveCommand !== '(disabled)' && facts.archiveCommand !== wanted) {
    throw new BadInputError(
      `${facts.dataDir} already archives WAL with archive_command '${facts.archiveCommand}', which day2 did not set`,
      `day2 never replaces another archiver: remove it (ALTER SYSTEM RESET archive_command) or set it to '${wanted}'`,
    );
  }
  const settings: Array<[string, string, boolean]> = [];
  if (facts.walLevel === 'minimal') settings.push(['wal_level', 'replica', true]);
  if (facts.archiveMode !== 'on' && facts.archiveMode !== 'always') settings.push(['archive_mode', 'on', true]);
  if (facts.archiveCommand !== wanted) settings.push(['archive_command', wanted, false]);
  if (facts.archiveTimeout !== c.archiveTimeout) settings.push(['archive_timeout', String(c.archiveTimeout), false]);
  const { adminUrl } = await databaseTargetOf(d);
  await withClient(adminUrl, async (client) => {
    for (const [name, value] of settings) await client.query(`ALTER SYSTEM SET ${name} = ${quoteLiteral(value)}`);
    if (settings.length) await client.query('SELECT pg_reload_conf()');
  });
  const needsRestart = [...new Set([...facts.pendingRestart, ...settings.filter(([, , restart]) => restart).map(([n]) => n)])];
  return { changed: settings.map(([n, v]) => `${n}=${v}`), needsRestart };
}

/** pg_stat_archiver, judged: failing (the last push failed after the last success), or
 * the recovery point in seconds (age of the last archived segment). */
export async function archivingHealth(d: DeploymentConfig): Promise<ArchivingHealth> {
  const { adminUrl } = await databaseTargetOf(d);
  const row = await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{
      failed_count: string;
      last_failed_time: Date | null;
      last_failed_wal: string | null;
      last_archived_wal: string | null;
      last_archived_time: Date | null;
      archive_mode: string;
      now: Date;
    }>(
      `SELECT failed_count::text, last_failed_time, last_failed_wal, last_archived_wal, last_archived_time, current_setting('archive_mode') AS archive_mode, now() AS now FROM pg_stat_archiver`,
    );
    return rows[0]!;
  });
  const lastOk = row.last_archived_time?.getTime() ?? 0;
  const failing = row.last_failed_time !== null && row.last_failed_time.getTime() > lastOk;
  const rpoSeconds = row.last_archived_time ? Math.max(0, Math.round((row.now.getTime() - lastOk) / 1000)) : undefined;
  const base = {
    failedCount: Number(row.failed_count),
    lastArchivedWal: row.last_archived_wal ?? undefined,
    lastArchivedAt: row.last_archived_time?.toISOString(),
    rpoSeconds,
  };
  if (row.archive_mode === 'off') return { ok: false, ...base, detail: 'archive_mode is off: no WAL is archived' };
  if (failing) {
    return {
      ok: false,
      ...base,
      failingSince: row.last_failed_time!.toISOString(),
      detail: `WAL archiving is failing: the push of ${row.last_failed_wal} failed at ${row.last_failed_time!.toISOString()}${row.last_archived_time ? `, the last success was ${row.last_archived_time.toISOString()}` : ', and no segment was ever archived'} (see the server log for archive_command's error)`,
    };
  }
  return {
    ok: true,
    ...base,
    detail: row.last_archived_time
      ? `last segment ${row.last_archived_wal} archived ${rpoSeconds} s ago`
      : 'archiving on; no segment archived yet',
  };
}

/** Ends the current WAL segment with a commit in it and waits until it is archived, so the
 * repository holds every write until now (a time target up to now can be reached). */
export async function archiveCurrentWal(d: DeploymentConfig, timeoutSeconds: number): Promise<{ at: string; lsn: string; wal: string }> {
  const { adminUrl } = await databaseTargetOf(d);
  return withClient(adminUrl, async (client) => {
    // A transaction with an xid writes a commit record stamped now: recovery to a time
    // before it stops there instead of running off the end of the WAL.
    await client.query('SELECT pg_current_xact_id()');
    const { rows } = await client.query<{ lsn: string; wal: string; at: Date }>(
      'SELECT pg_current_wal_lsn()::text AS lsn, pg_walfile_name(pg_current_wal_lsn()) AS wal, now() AS at',
    );
    const { lsn, wal, at } = rows[0]!;
    await client.query('SELECT pg_switch_wal()');
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const { rows: s } = await client.query<{ last: string | null; failed: string | null; failed_at: Date | null; ok_at: Date | null }>(
        'SELECT last_archived_wal AS last, last_failed_wal AS failed, last_failed_time AS failed_at, last_archived_time AS ok_at FROM pg_stat_archiver',
      );
      const st = s[0]!;
      // Segment names of one timeline order as text.
      if (st.last && st.last.slice(8) >= wal.slice(8)) return { at: at.toISOString(), lsn, wal };
      if (Date.now() > deadline) {
        throw new BadInputError(
          `WAL segment ${wal} was not archived within ${timeoutSeconds} s${st.failed ? ` (the last failed push: ${st.failed} at ${st.failed_at?.toISOString()})` : ''}`,
          'check archive_command and the repository (day2 preflight); nothing was changed',
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  });
}
