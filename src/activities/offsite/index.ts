// Off-site copy activities: upload and verify, list, download and verify, retention. Each
// reads the bucket's credentials and the encryption key from the env file itself: no key
// or secret passes through a workflow, its history or a log line (errors are masked).
import type { OffsiteOutcome, RemoteCopy } from '../../domain/offsite';
import { BadInputError } from '../../domain/errors';
import type { ActivityDeps } from '../shared/deps';
import { backupPaths, readManifest } from '../shared/backup-files';
import { keyringPath } from '../secrets/signing-keyring';
import type { PauseHook } from '../interceptors/test-pause';
import { fetchRemoteCopy, type FetchOutcome } from './download';
import { listRemoteCopies } from './list';
import { applyRemoteRetention } from './retention';
import { offsiteTarget } from './s3-client';
import { uploadBackupCopy, uploadKeyring } from './upload';

export function offsiteActivities({ resolve, logger }: ActivityDeps, pause?: PauseHook) {
  const target = async (deployment: string) => {
    const d = resolve(deployment);
    return { d, t: await offsiteTarget(d, deployment) };
  };
  return {
    /** Whether the deployment has a `backup.offsite` (read by the backup workflow, which
     * cannot read day2.yaml itself). */
    async offsiteConfigured(input: { deployment: string }): Promise<boolean> {
      return Boolean(resolve(input.deployment).backup.offsite);
    },

    /** Uploads `file` (a verified local backup) and the signing keyring, verifies the
     * copy, writes its remote manifest. Idempotent: a finished copy is not sent again. */
    async copyOffsite(input: { deployment: string; file: string }): Promise<Extract<OffsiteOutcome, { ok: true }>> {
      const started = Date.now();
      const { d, t } = await target(input.deployment);
      const paths = backupPaths(d.backup.dir, input.file);
      const manifest = await readManifest(paths.manifest);
      if (!manifest) throw new BadInputError(`backup ${input.file} has no manifest in ${d.backup.dir}: nothing to copy off-site`);
      const midPause = pause ? () => pause('copyOffsite', 'mid') : undefined;
      const log = logger.child({ deployment: input.deployment });
      const up = await uploadBackupCopy(t, paths.dump, manifest, log, midPause);
      await uploadKeyring(t, keyringPath(d.backup.dir));
      return {
        ok: true,
        key: up.key,
        sizeBytes: up.sizeBytes,
        reused: up.reused,
        encrypted: up.encrypted,
        deletedRemote: [],
        seconds: (Date.now() - started) / 1000,
      };
    },

    /** Remote retention (backup.offsite.keep / keepDays); never the newest verified copy. */
    async applyOffsiteRetention(input: { deployment: string; protect: string[] }): Promise<{ deleted: string[] }> {
      const { t } = await target(input.deployment);
      return { deleted: await applyRemoteRetention(t, input.deployment, input.protect, logger) };
    },

    /** The bucket's copies of the deployment, newest first. */
    async listOffsiteCopies(input: { deployment: string }): Promise<RemoteCopy[]> {
      const { t } = await target(input.deployment);
      return (await listRemoteCopies(t, input.deployment)).map((c) => c.copy);
    },

    /** Downloads an off-site copy (`latest` or a file name) into the backup directory,
     * verified against its remote manifest before it gets its name. */
    async fetchOffsiteCopy(input: { deployment: string; remote: string; runId: string }): Promise<FetchOutcome> {
      const { d, t } = await target(input.deployment);
      return fetchRemoteCopy(t, d.backup.dir, input.deployment, input.remote, input.runId, logger.child({ deployment: input.deployment }));
    },
  };
}
