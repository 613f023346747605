// The shape of a backup's manifest (`<file>.manifest.json`, and the sealed copy inside an
// off-site manifest): one schema, so a local and a downloaded manifest are judged alike.
import { z } from 'zod';

export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/);

export const backupManifestSchema = z.object({
  file: z.string(),
  deployment: z.string(),
  database: z.string(),
  serverVersion: z.string(),
  appVersion: z.string().nullable(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: sha256HexSchema,
  createdAt: z.string(),
  workflowId: z.string(),
  runId: z.string(),
  preUpgradeVersion: z.string().optional(),
  tocEntries: z.number().int().nonnegative(),
  /** directory: a tar of a pg_dump -Fd directory. Absent (older manifests): custom. */
  format: z.enum(['custom', 'directory']).optional(),
});

/** The format of a backup its manifest describes (older manifests name none: custom). */
export const backupFormatOf = (m: { format?: 'custom' | 'directory' }): 'custom' | 'directory' => m.format ?? 'custom';
