// Lists a deployment's backups as the worker sees them: the backup directory lives on the
// worker's host, which need not be the CLI's. Read-only, so it runs beside any operation.
import type { BackupManifest } from '../domain/types';
import { quick } from './activity-proxies';

export async function listBackups(input: { deployment: string }): Promise<BackupManifest[]> {
  return quick.listBackups.executeWithOptions({ summary: `List ${input.deployment}'s backups (manifests in the backup directory)` }, [
    input,
  ]);
}
