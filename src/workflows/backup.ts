// backup.sh as a workflow: pg_dump -Fc to a temporary name, verified with pg_restore
// --list, a manifest beside it, an atomic rename, then retention.
import { workflowInfo } from '@temporalio/workflow';
import { backupFileName } from '../domain/backup-names';
import { formatBytes } from '../domain/human-bytes';
import type { BackupInput, BackupResult } from '../domain/types';
import { long, quick } from './activity-proxies';
import { cancellationLeaves, endCleanlyOnCancel } from './cancellation';
import { reportOutcome } from './notify';
import { COPY_OFFSITE_STEP, copyOffsiteStep } from './offsite';
import { beginOperation } from './operation';
import type { ProgressTracker } from './progress';

export const BACKUP_STEPS = ['Detect running version', 'Dump and verify', 'Apply retention', COPY_OFFSITE_STEP] as const;

export async function backup(input: BackupInput): Promise<BackupResult> {
  const { progress } = beginOperation('backup', input.deployment, [...BACKUP_STEPS]);
  // A backup never changes the database; a dump stopped half-way is only a hidden
  // `.<file>.<runId>.partial`, never published under a backup's name.
  return reportOutcome(
    'backup',
    input.deployment,
    () => endCleanlyOnCancel(progress, cancellationLeaves('the database is untouched'), () => backupSteps(input, progress)),
    (r) => ({
      // Never a silent success: a backup without its off-site copy is reported as failed.
      ok: r.offsite?.ok !== false,
      // The local backup is verified either way: it renews 'backup'; a made copy renews 'offsite'.
      succeeded: r.offsite?.ok ? ['backup', 'offsite'] : ['backup'],
      detail:
        r.offsite?.ok === false
          ? offsiteFailedText(r.file, r.offsite.error)
          : `backed up to ${r.file} (${formatBytes(r.manifest.sizeBytes)}, sha256 ${r.manifest.sha256.slice(0, 12)})${r.offsite?.ok ? `; off-site copy ${r.offsite.key}` : ''}`,
    }),
  );
}

async function backupSteps(input: BackupInput, progress: ProgressTracker): Promise<BackupResult> {
  const { deployment } = input;
  const info = workflowInfo();
  // Named from the workflow's start time: a retry or replay computes the same name.
  const fileName = backupFileName(deployment, info.startTime);

  const appVersion = await progress.step(
    'Detect running version',
    () => quick.detectRunningVersion.executeWithOptions({ summary: `Read ${deployment}'s running version` }, [{ deployment }]),
    (v) => (v ? `running ${v}` : 'version unknown'),
  );
  const { manifest, reused } = await progress.step(
    'Dump and verify',
    () =>
      long.createBackup.executeWithOptions({ summary: `pg_dump ${deployment} → ${fileName}, verify with pg_restore --list` }, [
        {
          deployment,
          fileName,
          workflowId: info.workflowId,
          runId: info.runId,
          createdAt: info.startTime.toISOString(),
          appVersion: appVersion ?? undefined,
          preUpgradeVersion: input.preUpgradeVersion,
        },
      ]),
    (r) =>
      `${r.manifest.file}, ${formatBytes(r.manifest.sizeBytes)}, sha256 ${r.manifest.sha256.slice(0, 12)}${r.reused ? ' (reused)' : ''}`,
  );
  const { deleted } = await progress.step(
    'Apply retention',
    () =>
      quick.applyRetention.executeWithOptions({ summary: `Keep the newest backups of ${deployment}` }, [
        { deployment, keep: input.keep, protect: [manifest.file] },
      ]),
    (r) => (r.deleted.length ? `deleted ${r.deleted.join(', ')}` : 'nothing to delete'),
  );
  const offsite = await copyOffsiteStep(progress, deployment, manifest.file);
  if (offsite?.ok === false) {
    progress.finish(offsiteFailedText(manifest.file, offsite.error));
    return { file: manifest.file, manifest, reused, deleted, outcome: 'offsite-failed', offsite };
  }
  progress.finish(`backed up to ${manifest.file}${offsite?.ok ? `; off-site copy verified (${offsite.key})` : ''}`);
  return { file: manifest.file, manifest, reused, deleted, ...(offsite ? { outcome: 'backed-up' as const, offsite } : {}) };
}

/** What the CLI, the webhook and the Web UI say when only the local backup succeeded. */
const offsiteFailedText = (file: string, why: string) =>
  `backed up locally; off-site copy FAILED: ${why} (the local backup ${file} is kept and counts)`;
