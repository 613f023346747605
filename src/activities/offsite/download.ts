// Brings an off-site copy into the backup directory, so restore, rollback and drill run
// exactly their verified local path on it. Nothing is published until it is proven whole:
// the object streams into a hidden `.partial` (hashed as it arrives, decrypted chunk by
// authenticated chunk), its size and SHA-256 are checked against the remote manifest both
// as sent and as decrypted, and only then is it linked under its name with its manifest.
// A name already taken locally is reused when it is the same backup, refused otherwise.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, open, rm } from 'node:fs/promises';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { assertBareFileName } from '../../domain/backup-names';
import { BackupInvalidError, BadInputError } from '../../domain/errors';
import { LATEST_REMOTE, remoteKeyringKey, remoteKeys, type RemoteManifest } from '../../domain/offsite';
import type { BackupManifest } from '../../domain/types';
import type { Logger } from '../../logger';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../../lib/atomic-file';
import { backupPaths, ensureBackupDir, fileExists, matchesManifest, readManifest, writeManifest } from '../shared/backup-files';
import { beat } from '../shared/heartbeat';
import { KEYRING_FILE } from '../secrets/signing-keyring';
import { decryptStream } from './encryption';
import { listRemoteCopies } from './list';
import { isNotFound, s3Failure, type OffsiteTarget } from './s3-client';
import { openBackupManifest } from './remote-manifest';
import { META_KEY_ID, META_SHA256, probeBucket, readRemoteManifest } from './upload';

export interface FetchOutcome {
  file: string;
  sizeBytes: number;
  /** The same backup was already in the backup directory: nothing downloaded. */
  reused: boolean;
  seconds: number;
  keyringFetched: boolean;
}

const UNCHANGED = 'nothing was changed';

export async function fetchRemoteCopy(
  t: OffsiteTarget,
  dir: string,
  deployment: string,
  remote: string,
  runId: string,
  logger: Logger,
): Promise<FetchOutcome> {
  if (!/^[A-Za-z0-9_-]+$/.test(runId)) throw new BadInputError(`run id '${runId}' cannot be part of a file name`);
  await probeBucket(t);
  const { file, manifest } = await chooseCopy(t, deployment, remote);
  const invalid = (why: string) => new BackupInvalidError(`off-site copy ${file} cannot be used: ${why}; ${UNCHANGED}`);
  if (manifest.file !== file) throw invalid(`its manifest describes ${manifest.file} (renamed?)`);
  if (manifest.object.encrypted && !t.key) throw invalid('it is encrypted, and backup.offsite names no encryptionKeyVar');
  if (manifest.object.encrypted && manifest.object.keyId !== t.key!.id) {
    throw invalid(`it was encrypted with key ${manifest.object.keyId}, but ${t.config.encryptionKeyVar} holds key ${t.key!.id}`);
  }
  let backup: BackupManifest;
  try {
    backup = openBackupManifest(t, manifest);
  } catch (err) {
    throw invalid((err as Error).message.replace(`the manifest of off-site copy ${file}`, 'its manifest'));
  }
  if (backup.deployment !== deployment) throw invalid(`it belongs to deployment '${backup.deployment}', not '${deployment}'`);

  await ensureBackupDir(dir);
  // Only once the copy is proven: a refused copy leaves the backup directory as it was.
  const keyring = () =>
    fetchKeyringIfMissing(t, dir).catch((err: Error) => {
      logger.warn({ deployment, err: err.message }, 'off-site keyring not fetched');
      return false;
    });
  const final = backupPaths(dir, file);
  if (await fileExists(final.dump)) {
    const local = await readManifest(final.manifest).catch(() => undefined);
    if (local && local.sha256 === backup.sha256 && (await matchesManifest(final.dump, local))) {
      return { file, sizeBytes: local.sizeBytes, reused: true, seconds: 0, keyringFetched: await keyring() };
    }
    throw new BadInputError(
      `${file} already exists in ${dir} and is not this off-site copy; day2 never overwrites a backup`,
      'move it out of the backup directory first',
    );
  }

  const started = Date.now();
  const partial = `${dir}/.${file}.${runId}.fetch.partial`;
  await rm(partial, { force: true });
  await (await open(partial, 'w', PRIVATE_FILE_MODE)).close();
  try {
    const sent = await download(t, manifest, partial, invalid);
    if (sent.raw.size !== manifest.object.sizeBytes)
      throw invalid(
        `it has ${sent.raw.size} bytes in the bucket but its manifest says ${manifest.object.sizeBytes} (truncated or altered)`,
      );
    if (sent.raw.sha256 !== manifest.object.sha256)
      throw invalid(
        `its SHA-256 in the bucket is ${sent.raw.sha256.slice(0, 12)}… but its manifest says ${manifest.object.sha256.slice(0, 12)}… (altered)`,
      );
    if (sent.plain.size !== backup.sizeBytes)
      throw invalid(`it decrypts to ${sent.plain.size} bytes but its manifest says ${backup.sizeBytes}`);
    if (sent.plain.sha256 !== backup.sha256)
      throw invalid(`it decrypts to SHA-256 ${sent.plain.sha256.slice(0, 12)}… but its manifest says ${backup.sha256.slice(0, 12)}…`);
    // The manifest first, then the dump under its name: listings show a dump only with
    // its manifest, and a crash in between leaves a manifest of a missing dump (harmless).
    await writeManifest(final.manifest, backup);
    await link(partial, final.dump);
  } finally {
    await rm(partial, { force: true });
  }
  const keyringFetched = await keyring();
  const seconds = (Date.now() - started) / 1000;
  logger.info({ deployment, file, sizeBytes: backup.sizeBytes, seconds, keyringFetched }, 'off-site copy downloaded and verified');
  return { file, sizeBytes: backup.sizeBytes, reused: false, seconds, keyringFetched };
}

async function chooseCopy(t: OffsiteTarget, deployment: string, remote: string): Promise<{ file: string; manifest: RemoteManifest }> {
  if (remote === LATEST_REMOTE) {
    const newest = (await listRemoteCopies(t, deployment)).find((c) => c.copy.verified && c.manifest);
    if (!newest?.manifest)
      throw new BadInputError(
        `there is no verified off-site copy of ${deployment} in ${t.where}`,
        '`day2 backups --remote` lists what is there',
      );
    return { file: newest.copy.file, manifest: newest.manifest };
  }
  const file = assertBareFileName(remote);
  const manifest = await readRemoteManifest(t, remoteKeys(t.prefix, file).manifest).catch((err: Error) => {
    throw new BackupInvalidError(`off-site copy ${file} cannot be used: ${err.message}; ${UNCHANGED}`);
  });
  if (!manifest)
    throw new BadInputError(
      `no off-site copy ${file} in ${t.where} (or it has no manifest: incomplete)`,
      '`day2 backups --remote` lists them',
    );
  return { file, manifest };
}

interface Digest {
  size: number;
  sha256: string;
}

function hashing(into: { hash: ReturnType<typeof createHash>; size: number }, onBytes?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, done: TransformCallback) {
      into.hash.update(chunk);
      into.size += chunk.length;
      onBytes?.(into.size);
      done(null, chunk);
    },
  });
}

async function download(
  t: OffsiteTarget,
  manifest: RemoteManifest,
  partial: string,
  invalid: (why: string) => Error,
): Promise<{ raw: Digest; plain: Digest }> {
  const key = manifest.object.key;
  let body: Readable;
  try {
    const res = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    body = res.Body as Readable;
  } catch (err) {
    if (isNotFound(err)) throw invalid('its object is missing from the bucket');
    throw s3Failure(t, `download ${key}`, err);
  }
  const raw = { hash: createHash('sha256'), size: 0 };
  const plain = { hash: createHash('sha256'), size: 0 };
  let lastBeat = 0;
  const progress = (n: number) => {
    if (Date.now() - lastBeat > 1000) {
      beat({ downloadedBytes: n, of: manifest.object.sizeBytes });
      lastBeat = Date.now();
    }
  };
  const stages: NodeJS.ReadWriteStream[] = [hashing(raw, progress)];
  if (manifest.object.encrypted) stages.push(decryptStream(t.key!, `off-site copy ${manifest.file}`));
  stages.push(hashing(plain));
  try {
    await pipeline([body, ...stages, createWriteStream(partial, { flags: 'r+' })]);
  } catch (err) {
    if (err instanceof BackupInvalidError) throw invalid(err.message.replace(`off-site copy ${manifest.file} `, 'it '));
    // The SDK checks what it receives against the checksum the server stored at upload.
    if (/checksum mismatch/i.test((err as Error).message)) {
      throw invalid('its bytes do not match the checksum the server stored for it (altered in the bucket, or corrupted on the way)');
    }
    throw s3Failure(t, `download ${key}`, err);
  }
  return { raw: { size: raw.size, sha256: raw.hash.digest('hex') }, plain: { size: plain.size, sha256: plain.hash.digest('hex') } };
}

/** A fresh host has no keyring: fetch the bucket's, so old vault signatures verify. An
 * existing local keyring is never replaced (it may be newer). */
async function fetchKeyringIfMissing(t: OffsiteTarget, dir: string): Promise<boolean> {
  const local = `${dir}/${KEYRING_FILE}`;
  if (await fileExists(local)) return false;
  const key = remoteKeyringKey(t.prefix);
  let res;
  try {
    res = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
  } catch (err) {
    if (isNotFound(err)) return false;
    throw s3Failure(t, `download ${key}`, err);
  }
  const bytes = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
  const keyId = res.Metadata?.[META_KEY_ID];
  // Never ciphertext, nor bytes other than what was sent, under the keyring's name.
  if (keyId && !t.key) throw new BackupInvalidError(`${key} is encrypted (key ${keyId}), and backup.offsite names no encryptionKeyVar`);
  const text = keyId ? await decryptBuffer(t, bytes) : bytes;
  const sha256 = createHash('sha256').update(text).digest('hex');
  if (res.Metadata?.[META_SHA256] && res.Metadata[META_SHA256] !== sha256)
    throw new BackupInvalidError(`${key} does not match the SHA-256 it was sent with`);
  await writeFileAtomic(local, text, PRIVATE_FILE_MODE);
  return true;
}

async function decryptBuffer(t: OffsiteTarget, bytes: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  const d = decryptStream(t.key!, 'the off-site keyring');
  await pipeline(
    Readable.from([bytes]),
    d,
    new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}
