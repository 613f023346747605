// The manifest of an off-site copy: written so the bucket holds nothing readable without
// the key (the local manifest sealed with it when the copy is encrypted), and read back
// strictly: anything that does not parse as one day2 wrote is refused, and a sealed local
// manifest must open with the configured key and agree with the fields in the clear.
import { z } from 'zod';
import { backupManifestSchema, sha256HexSchema } from '../../domain/backup-manifest-schema';
import { BackupInvalidError } from '../../domain/errors';
import type { RemoteManifest, RemoteObjectRecord } from '../../domain/offsite';
import type { BackupManifest } from '../../domain/types';
import { openSealedValue, sealValue } from './encryption';
import type { OffsiteTarget } from './s3-client';

const objectSchema = z.object({
  key: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: sha256HexSchema,
  serverChecksum: z.string().optional(),
  encrypted: z.boolean(),
  keyId: z
    .string()
    .regex(/^[0-9a-f]{12}$/)
    .optional(),
  uploadedAt: z.string(),
});

const remoteManifestSchema = z.object({
  format: z.literal('day2-offsite-2'),
  file: z.string(),
  createdAt: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: sha256HexSchema,
  object: objectSchema,
  backup: backupManifestSchema.optional(),
  sealed: z.string().optional(),
});

const sealContext = (file: string) => `day2-offsite-manifest:${file}`;

/** The remote manifest of `backup` sent as `object`: sealed when the copy is encrypted. */
export function remoteManifestOf(t: Pick<OffsiteTarget, 'key'>, backup: BackupManifest, object: RemoteObjectRecord): RemoteManifest {
  const clear = {
    format: 'day2-offsite-2' as const,
    file: backup.file,
    createdAt: backup.createdAt,
    sizeBytes: backup.sizeBytes,
    sha256: backup.sha256,
    object,
  };
  if (!t.key) return { ...clear, backup };
  return { ...clear, sealed: sealValue(t.key, Buffer.from(JSON.stringify(backup)), sealContext(backup.file)) };
}

export function parseRemoteManifest(text: string, key: string): RemoteManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupInvalidError(`${key} in the bucket is not valid JSON`);
  }
  const parsed = remoteManifestSchema.safeParse(json);
  if (!parsed.success || (!parsed.data.backup && !parsed.data.sealed))
    throw new BackupInvalidError(`${key} in the bucket is not a day2 off-site manifest`);
  return parsed.data as RemoteManifest;
}

/** The local manifest inside a remote one: opened with the configured key when sealed
 * (the caller has checked the key id), and refused unless it agrees with the clear fields. */
export function openBackupManifest(t: Pick<OffsiteTarget, 'key'>, m: RemoteManifest): BackupManifest {
  const what = `the manifest of off-site copy ${m.file}`;
  let backup: BackupManifest;
  if (m.backup) backup = m.backup;
  else {
    if (!t.key) throw new BackupInvalidError(`${what} is encrypted, and backup.offsite names no encryptionKeyVar`);
    const parsed = backupManifestSchema.safeParse(
      safeJson(openSealedValue(t.key, m.sealed ?? '', sealContext(m.file), what).toString('utf8')),
    );
    if (!parsed.success) throw new BackupInvalidError(`${what} does not hold a backup manifest`);
    backup = parsed.data as BackupManifest;
  }
  for (const field of ['file', 'createdAt', 'sizeBytes', 'sha256'] as const) {
    if (backup[field] !== m[field])
      throw new BackupInvalidError(`${what} says ${field} ${String(backup[field])} inside but ${String(m[field])} outside (altered)`);
  }
  return backup;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
