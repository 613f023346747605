// The manifest of an off-site copy, as read back from the bucket: anything that does not
// parse as one is refused (a copy is used only with a manifest day2 wrote).
import { z } from 'zod';
import { BackupInvalidError } from '../../domain/errors';
import type { RemoteManifest } from '../../domain/offsite';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const remoteManifestSchema = z.object({
  format: z.literal('day2-offsite-1'),
  backup: z.object({
    file: z.string(),
    deployment: z.string(),
    database: z.string(),
    serverVersion: z.string(),
    appVersion: z.string().nullable(),
    sizeBytes: z.number().int().nonnegative(),
    sha256: sha256Hex,
    createdAt: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    preUpgradeVersion: z.string().optional(),
    tocEntries: z.number().int().nonnegative(),
  }),
  object: z.object({
    key: z.string(),
    sizeBytes: z.number().int().nonnegative(),
    sha256: sha256Hex,
    serverChecksum: z.string().optional(),
    encrypted: z.boolean(),
    keyId: z.string().regex(/^[0-9a-f]{12}$/).optional(),
    uploadedAt: z.string(),
  }),
});

export function parseRemoteManifest(text: string, key: string): RemoteManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupInvalidError(`${key} in the bucket is not valid JSON`);
  }
  const parsed = remoteManifestSchema.safeParse(json);
  if (!parsed.success) throw new BackupInvalidError(`${key} in the bucket is not a day2 off-site manifest`);
  return parsed.data as RemoteManifest;
}
