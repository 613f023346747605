// `day2 backup` on a pgBackRest deployment: make sure WAL is archived (ALTER SYSTEM, and
// the one restart archive_mode needs, behind a gate), the stanza exists and checks, then a
// full / differential / incremental backup keyed by this run, then retention.
import { workflowInfo } from '@temporalio/workflow';
import { GATES } from '../domain/gate-names';
import { failure } from '../domain/failures';
import { formatBytes } from '../domain/human-bytes';
import type { PgbackrestBackupInput, PgbackrestBackupResult } from '../domain/pgbackrest';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel } from './cancellation';
import type { Gates } from './gate';
import { reportOutcome } from './notify';
import { beginOperation } from './operation';
import type { ProgressTracker } from './progress';

export const PGBACKREST_BACKUP_STEPS = [
  'Check the database server',
  'Restart PostgreSQL for archiving',
  'Check WAL archiving',
  'Create stanza and check',
  'pgBackRest backup',
  'Expire old backups',
] as const;

export async function pgbackrestBackup(input: PgbackrestBackupInput): Promise<PgbackrestBackupResult> {
  const { progress, gates } = beginOperation('backup', input.deployment, [...PGBACKREST_BACKUP_STEPS]);
  return reportOutcome(
    'backup',
    input.deployment,
    () => endCleanlyOnCancel(progress, cancellationLeaves('no backup was taken'), () => steps(input, progress, gates)),
    (r) => ({ ok: r.outcome === 'backed-up', detail: progress.snapshot.outcome ?? '' }),
  );
}

async function steps(input: PgbackrestBackupInput, progress: ProgressTracker, gates: Gates): Promise<PgbackrestBackupResult> {
  const { deployment } = input;
  const prepared = await progress.step(
    'Check the database server',
    () =>
      quick.prepareArchiving.executeWithOptions(
        { summary: `Check ${deployment}'s server may be configured; set archive_mode/archive_command` },
        [{ deployment }],
      ),
    (r) => `${r.dataDir}, port ${r.port}${r.changed.length ? `; set ${r.changed.join(', ')}` : '; archiving already configured'}`,
  );
  if (prepared.needsRestart.length === 0) {
    progress.skip('Restart PostgreSQL for archiving', 'no restart needed');
  } else {
    if (input.refuseRestart)
      throw badInput(
        `WAL archiving on ${deployment} waits for a restart of PostgreSQL (${prepared.needsRestart.join(', ')}), which an upgrade does not do by itself: ` +
          'run `day2 backup` once (it asks for the restart at the restart-for-archiving gate), then start the upgrade again. Nothing was stopped.',
      );
    if (!input.yes) {
      const decision = await gates.wait('Restart PostgreSQL for archiving', {
        name: GATES.restartForArchiving,
        question: `Restart PostgreSQL (${prepared.dataDir}) so ${prepared.needsRestart.join(', ')} take effect? Every connection is dropped for the few seconds of the restart.`,
        timeoutSeconds: input.gateTimeoutSeconds ?? 24 * 3600,
        defaultOutcome: 'reject',
      });
      if (!decision.approve) {
        progress.finish(`rejected by ${decision.by}: no restart, no backup (archiving waits for the restart)`);
        return { outcome: 'rejected', reason: decision.reason };
      }
    }
    await progress.step(
      'Restart PostgreSQL for archiving',
      () =>
        quick.restartForArchiving.executeWithOptions({ summary: `Restart PostgreSQL for ${prepared.needsRestart.join(', ')}` }, [
          { deployment },
        ]),
      (r) => (r.restarted ? 'restarted' : 'already restarted'),
    );
  }
  const archiving = await progress.step(
    'Check WAL archiving',
    async () => {
      const health = await quick.checkArchiving.executeWithOptions({ summary: 'pg_stat_archiver: no failing push, last archived age' }, [
        { deployment },
      ]);
      if (!health.ok) throw badInput(`no backup taken: ${health.detail}`);
      return health;
    },
    (h) => h.detail,
  );
  const force = prepared.configChanged || prepared.changed.length > 0;
  await progress.step(
    'Create stanza and check',
    () => long.createStanza.executeWithOptions({ summary: 'pgbackrest stanza-create; pgbackrest check' }, [{ deployment, force }]),
    (r) => r,
  );
  const type = input.type ?? 'incr';
  const {
    backup,
    reused,
    expired: expiredByBackup,
  } = await progress.step(
    'pgBackRest backup',
    () =>
      long.takePgbackrestBackup.executeWithOptions({ summary: `pgbackrest backup --type=${type}` }, [
        { deployment, runId: workflowInfo().runId, type },
      ]),
    (r) =>
      `${r.backup.label} (${r.backup.type}), ${formatBytes(r.backup.sizeBytes)} → ${formatBytes(r.backup.repoSizeBytes)} in the repository, LSN ${r.backup.lsnStart}–${r.backup.lsnStop}${r.reused ? ' (reused)' : ''}`,
  );
  // pgbackrest backup expires by repo1-retention-full itself; a reused backup's run did
  // so already, so an explicit expire is only needed then (a no-op otherwise).
  const expired = await progress.step(
    'Expire old backups',
    async () =>
      reused
        ? quick.expirePgbackrestBackups.executeWithOptions({ summary: 'pgbackrest expire (repo1-retention-full)' }, [{ deployment }])
        : expiredByBackup,
    (labels) => (labels.length ? `expired ${labels.join(', ')}` : 'nothing to expire'),
  );
  progress.finish(
    `pgBackRest ${backup.type} backup ${backup.label}: ${formatBytes(backup.sizeBytes)}, consistent at ${backup.stoppedAt} (LSN ${backup.lsnStop})`,
  );
  return { outcome: 'backed-up', backup, reused, expired, archiving };
}

const badInput = (message: string) => failure('BadInputError', message);
