// Off-site copies of backups on S3-compatible storage: the `backup.offsite` section of
// day2.yaml, where a copy lives in the bucket, and what workflows see of it. Pure: safe in
// workflows. Credentials and the encryption key are named here (env-file variables), never
// held: their values are read by the activities that need them.
import { z } from 'zod';
import type { BackupManifest } from './types';

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an env-file variable name');

export const offsiteSchema = z.strictObject({
  kind: z.literal('s3'),
  /** Absent: AWS S3 itself. */
  endpoint: z.url({ message: 'expected a URL' }).optional(),
  region: z.string().min(1).default('us-east-1'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)'),
  /** Key prefix of this deployment's copies; default `<deployment>/`. */
  prefix: z
    .string()
    .regex(/^([^/].*\/)?$/, "expected a key prefix ending in '/' (or empty), not starting with '/'")
    .optional(),
  /** Path-style URLs (`endpoint/bucket/key`): what most self-hosted servers need. */
  forcePathStyle: z.boolean().default(false),
  accessKeyIdVar: envVarName,
  secretAccessKeyVar: envVarName,
  /** Env-file variable holding a 32-byte key (64 hex digits or base64): copies are
   * encrypted client-side (AES-256-GCM) before they leave the host. */
  encryptionKeyVar: envVarName.optional(),
  /** Copies to keep in the bucket (newest first); unset: `keepDays` alone decides. */
  keep: z.number().int().positive().optional(),
  /** Delete copies older than this many days (beyond `keep`, when both are set). */
  keepDays: z.number().positive().optional(),
});
export type OffsiteConfig = z.infer<typeof offsiteSchema>;

export const offsitePrefix = (deployment: string, c: Pick<OffsiteConfig, 'prefix'>) => c.prefix ?? `${deployment}/`;
export const REMOTE_MANIFEST_SUFFIX = '.manifest.json';
export const remoteKeys = (prefix: string, file: string) => ({
  object: `${prefix}${file}`,
  manifest: `${prefix}${file}${REMOTE_MANIFEST_SUFFIX}`,
});
export const remoteKeyringKey = (prefix: string) => `${prefix}keyring.json`;

/** What was sent: recorded in the remote manifest, checked on every download. */
export interface RemoteObjectRecord {
  key: string;
  /** Bytes in the bucket (ciphertext when encrypted). */
  sizeBytes: number;
  /** SHA-256 (hex) of exactly the bytes sent. */
  sha256: string;
  /** The server's own checksum of what it stored, which it computed from the parts it
   * accepted; compared with ours after the upload. */
  serverChecksum?: string;
  encrypted: boolean;
  /** First 12 hex of SHA-256 of the encryption key. */
  keyId?: string;
  uploadedAt: string;
}

/** `<prefix><file>.manifest.json` in the bucket: written last, so a copy without one is
 * incomplete. In the clear only what listing and the checks before a download need (the
 * file, its time, plain size and SHA-256, what was sent and the key id); the local manifest
 * (deployment, database name, server and app version, workflow) is `backup` for a copy
 * sent as it is, and `sealed` — encrypted with the copy's key — for an encrypted one. */
export interface RemoteManifest {
  format: 'day2-offsite-2';
  file: string;
  createdAt: string;
  /** Size and SHA-256 (hex) of the plain dump. */
  sizeBytes: number;
  sha256: string;
  object: RemoteObjectRecord;
  backup?: BackupManifest;
  sealed?: string;
}

/** One copy in the bucket, as `day2 backups --remote` lists it. */
export interface RemoteCopy {
  file: string;
  createdAt: string;
  sizeBytes: number;
  appVersion: string | null;
  encrypted: boolean;
  keyId?: string;
  /** The manifest is there and the object's size in the bucket matches it. */
  verified: boolean;
  /** Why it is not verified. */
  problem?: string;
  deployment: string;
}

export type OffsiteOutcome =
  | { ok: true; key: string; sizeBytes: number; reused: boolean; encrypted: boolean; deletedRemote: string[]; seconds: number }
  | { ok: false; error: string };

/** What `--remote` names: a copy's file name, or `latest`. */
export const LATEST_REMOTE = 'latest';
