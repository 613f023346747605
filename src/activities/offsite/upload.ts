// Copies a verified backup to the bucket, idempotently, and proves the copy is whole.
//
//   1. A manifest already in the bucket for this dump, over an object of its size and
//      checksum: done (a retry, or the same backup copied before). Nothing is sent.
//   2. An object of this dump without its manifest (a crash after the upload completed):
//      encryption is deterministic, so re-encrypting locally gives the bytes it must hold;
//      when the server's checksum of it matches ours, only the manifest is written.
//   3. Otherwise: abort every unfinished multipart upload of this key (a crashed attempt's),
//      then stream the dump — read once, hashed, encrypted, cut into parts each sent with
//      its SHA-256 so the server refuses a corrupted one — and on failure abort the upload.
//   4. Compare the size and the server's checksum of the stored object (built from the
//      part checksums it accepted) with what we computed of the bytes we sent.
//   5. Write the manifest (size and SHA-256 of what was sent) last: a copy without one is
//      incomplete and never used.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Transform, Writable, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { failure } from '../../domain/failures';
import { BackupInvalidError } from '../../domain/errors';
import { remoteKeyringKey, remoteKeys, type RemoteManifest, type RemoteObjectRecord } from '../../domain/offsite';
import type { BackupManifest } from '../../domain/types';
import type { Logger } from '../../logger';
import { beat } from '../shared/heartbeat';
import { encryptedSize, encryptStream } from './encryption';
import { isNotFound, s3Call, s3Failure, type OffsiteTarget } from './s3-client';
import { parseRemoteManifest, remoteManifestOf } from './remote-manifest';

/** Parts of 8 MiB, more for a dump that would need over 9,000 of them (S3 allows 10,000). */
export function partSizeFor(bytes: number): number {
  const MiB = 1024 * 1024;
  return Math.max(8 * MiB, Math.ceil(bytes / 9000 / MiB) * MiB);
}
const QUEUE_SIZE = 4;
export const META_SHA256 = 'day2-sha256';
export const META_KEY_ID = 'day2-key-id';

export interface UploadOutcome {
  key: string;
  sizeBytes: number;
  reused: boolean;
  encrypted: boolean;
}

/** A hook the test harness sets to stop mid-upload (DAY2_TEST_PAUSE=copyOffsite@mid). */
export type MidPause = () => Promise<void>;

export async function uploadBackupCopy(
  t: OffsiteTarget,
  dumpPath: string,
  manifest: BackupManifest,
  logger: Logger,
  midPause?: MidPause,
): Promise<UploadOutcome> {
  const keys = remoteKeys(t.prefix, manifest.file);
  await probeBucket(t);
  const encrypted = Boolean(t.key);
  const outcome = (sizeBytes: number, reused: boolean): UploadOutcome => ({ key: keys.object, sizeBytes, reused, encrypted });

  const head = await headObject(t, keys.object);
  const remote = await readRemoteManifest(t, keys.manifest).catch(() => undefined);
  if (
    remote &&
    head &&
    remote.sha256 === manifest.sha256 &&
    remote.file === manifest.file &&
    matchesRecord(head, remote.object) &&
    remote.object.keyId === t.key?.id
  ) {
    return outcome(remote.object.sizeBytes, true);
  }

  const expectedSize = t.key ? encryptedSize(manifest.sizeBytes) : manifest.sizeBytes;
  const partSize = partSizeFor(expectedSize);
  if (head && head.Metadata?.[META_SHA256] === manifest.sha256 && (head.Metadata?.[META_KEY_ID] ?? '') === (t.key?.id ?? '')) {
    // Step 2: prove the object is what we would send, without sending it.
    const local = await digestOfCopy(t, dumpPath, manifest, partSize);
    const record = recordOf(keys.object, local, head, t);
    if (matchesRecord(head, record)) {
      await putManifest(t, keys.manifest, remoteManifestOf(t, manifest, record));
      logger.info({ key: keys.object }, 'off-site copy found complete in the bucket; manifest written');
      return outcome(record.sizeBytes, true);
    }
  }

  await abortUnfinishedUploads(t, keys.object, logger);
  const started = Date.now();
  const sent = new CopyDigest(partSize);
  const plainHash = createHash('sha256');
  let plainSize = 0;
  const checkPlain = new Transform({
    transform(chunk: Buffer, _e, done) {
      plainHash.update(chunk);
      plainSize += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      // The dump changed since it was verified: send nothing that is not the backup.
      if (plainHash.digest('hex') !== manifest.sha256 || plainSize !== manifest.sizeBytes) {
        return done(
          new BackupInvalidError(`backup ${manifest.file} no longer matches its manifest (changed on disk?): not copied off-site`),
        );
      }
      done();
    },
  });
  const source = createReadStream(dumpPath, { highWaterMark: 1024 * 1024 });
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const stages: NodeJS.ReadWriteStream[] = [
    checkPlain,
    ...(t.key ? [encryptStream(t.key, manifest.sha256)] : []),
    sent.transform(midPause),
  ];
  // A failed read, a changed dump or a failed encryption fails the body, and so the upload.
  const feeding = pipeline([source, ...stages, body]).catch((err: Error) => {
    body.destroy(err);
    return err;
  });
  const upload = new Upload({
    client: t.s3,
    params: {
      Bucket: t.bucket,
      Key: keys.object,
      Body: body,
      ContentType: 'application/octet-stream',
      ChecksumAlgorithm: 'SHA256',
      Metadata: { [META_SHA256]: manifest.sha256, ...(t.key ? { [META_KEY_ID]: t.key.id } : {}) },
    },
    partSize,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
  });
  upload.on('httpUploadProgress', (p) => beat({ uploadedBytes: p.loaded, of: expectedSize }));
  try {
    await upload.done();
  } catch (err) {
    source.destroy();
    const local = await feeding;
    // lib-storage aborts its own multipart upload; make sure, then report.
    await abortUnfinishedUploads(t, keys.object, logger).catch(() => undefined);
    if (local instanceof BackupInvalidError) throw local;
    if (err instanceof BackupInvalidError) throw err;
    throw s3Failure(t, `upload ${keys.object}`, err);
  }

  const stored = await headObject(t, keys.object);
  const record = recordOf(keys.object, sent.result(), stored, t);
  if (!stored || !matchesRecord(stored, record)) {
    throw failure(
      'OffsiteMismatch',
      `the copy of ${manifest.file} in ${t.where} does not match what was sent (size ${stored?.ContentLength ?? 'none'} vs ${record.sizeBytes}, checksum ${checksumOf(stored) ?? 'none'} vs ${record.serverChecksum})`,
    );
  }
  await putManifest(t, keys.manifest, remoteManifestOf(t, manifest, record));
  const seconds = (Date.now() - started) / 1000;
  logger.info(
    { key: keys.object, sizeBytes: record.sizeBytes, encrypted, seconds, mbPerSecond: +(record.sizeBytes / 1e6 / seconds).toFixed(1) },
    'off-site copy uploaded and verified',
  );
  return outcome(record.sizeBytes, false);
}

/** The signing keyring (public keys that verify old vault signatures), sent when it changed. */
export async function uploadKeyring(t: OffsiteTarget, keyringFile: string): Promise<boolean> {
  const text = await readFile(keyringFile).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!text) return false;
  const sha256 = createHash('sha256').update(text).digest('hex');
  const key = remoteKeyringKey(t.prefix);
  const head = await headObject(t, key);
  if (head?.Metadata?.[META_SHA256] === sha256 && (head.Metadata?.[META_KEY_ID] ?? '') === (t.key?.id ?? '')) return false;
  const body = t.key ? await collect(Buffer.from(text), encryptStream(t.key, sha256)) : text;
  await s3Call(t, `upload ${key}`, () =>
    t.s3.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: key,
        Body: body,
        ChecksumAlgorithm: 'SHA256',
        Metadata: { [META_SHA256]: sha256, ...(t.key ? { [META_KEY_ID]: t.key.id } : {}) },
      }),
    ),
  );
  return true;
}

/** One cheap listing: the bucket exists and takes our credentials (GET, so the server's
 * error has a code: NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch…). */
export async function probeBucket(t: OffsiteTarget): Promise<void> {
  await s3Call(t, `list bucket '${t.bucket}'`, () =>
    t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: t.prefix, MaxKeys: 1 })),
  );
}

export async function headObject(t: OffsiteTarget, key: string): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await t.s3.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key, ChecksumMode: 'ENABLED' }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw s3Failure(t, `look up ${key}`, err);
  }
}

export async function readRemoteManifest(t: OffsiteTarget, key: string): Promise<RemoteManifest | undefined> {
  let text: string;
  try {
    const res = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    text = (await res.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw s3Failure(t, `read ${key}`, err);
  }
  return parseRemoteManifest(text, key);
}

async function putManifest(t: OffsiteTarget, key: string, manifest: RemoteManifest): Promise<void> {
  await s3Call(t, `write ${key}`, () =>
    t.s3.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: key,
        Body: `${JSON.stringify(manifest, null, 2)}\n`,
        ContentType: 'application/json',
        ChecksumAlgorithm: 'SHA256',
      }),
    ),
  );
}

/** Aborts every unfinished multipart upload of `key`: parts of a crashed attempt would
 * otherwise be kept (and billed) by the server for ever. */
export async function abortUnfinishedUploads(t: OffsiteTarget, key: string, logger: Logger): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await s3Call(t, `list unfinished uploads of ${key}`, () =>
      t.s3.send(new ListMultipartUploadsCommand({ Bucket: t.bucket, Prefix: key, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })),
    );
    for (const u of page.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await s3Call(t, `abort an unfinished upload of ${key}`, () =>
        t.s3.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: key, UploadId: u.UploadId })),
      );
      aborted++;
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
  if (aborted) logger.info({ key, aborted }, 'aborted unfinished multipart uploads of an earlier attempt');
  return aborted;
}

interface SentDigest {
  sizeBytes: number;
  sha256: string;
  /** base64 SHA-256 of the whole, and the composite `base64(sha256(part digests))-N`. */
  fullChecksum: string;
  compositeChecksum: string;
}

/** Hashes what is sent as S3 will see it: whole, and part by part. */
class CopyDigest {
  private readonly whole = createHash('sha256');
  private readonly partDigests: Buffer[] = [];
  private part: Hash = createHash('sha256');
  private inPart = 0;
  private size = 0;
  constructor(private readonly partSize: number) {}

  update(chunk: Buffer): void {
    this.whole.update(chunk);
    this.size += chunk.length;
    let rest = chunk;
    while (rest.length) {
      const take = Math.min(rest.length, this.partSize - this.inPart);
      this.part.update(rest.subarray(0, take));
      this.inPart += take;
      rest = rest.subarray(take);
      if (this.inPart === this.partSize) {
        this.partDigests.push(this.part.digest());
        this.part = createHash('sha256');
        this.inPart = 0;
      }
    }
  }

  transform(midPause?: MidPause): Transform {
    let paused = false;
    let push: (chunk: Buffer) => void = () => undefined;
    const t: Transform = new Transform({
      transform: (chunk: Buffer, _e, done: TransformCallback) => {
        this.update(chunk);
        // Once a part's worth has gone by, the multipart upload exists on the server.
        if (midPause && !paused && this.size > this.partSize) {
          paused = true;
          push(chunk);
          void midPause().then(() => done(), done);
          return;
        }
        done(null, chunk);
      },
    });
    push = (chunk) => t.push(chunk);
    return t;
  }

  result(): SentDigest {
    if (this.inPart || !this.partDigests.length) this.partDigests.push(this.part.digest());
    const composite = createHash('sha256');
    for (const d of this.partDigests) composite.update(d);
    const whole = this.whole.digest();
    return {
      sizeBytes: this.size,
      sha256: whole.toString('hex'),
      fullChecksum: whole.toString('base64'),
      compositeChecksum: `${composite.digest('base64')}-${this.partDigests.length}`,
    };
  }
}

/** What uploading would send, computed locally (no network): for step 2. */
async function digestOfCopy(t: OffsiteTarget, dumpPath: string, manifest: BackupManifest, partSize: number): Promise<SentDigest> {
  const digest = new CopyDigest(partSize);
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      digest.update(chunk);
      done();
    },
  });
  const source = createReadStream(dumpPath, { highWaterMark: 1024 * 1024 });
  if (t.key) await pipeline(source, encryptStream(t.key, manifest.sha256), sink);
  else await pipeline(source, sink);
  return digest.result();
}

function recordOf(key: string, sent: SentDigest, stored: HeadObjectCommandOutput | undefined, t: OffsiteTarget): RemoteObjectRecord {
  // The server reports the composite checksum for a multipart object, the whole one else.
  const serverChecksum = checksumOf(stored)?.includes('-') ? sent.compositeChecksum : sent.fullChecksum;
  return {
    key,
    sizeBytes: sent.sizeBytes,
    sha256: sent.sha256,
    serverChecksum,
    encrypted: Boolean(t.key),
    ...(t.key ? { keyId: t.key.id } : {}),
    uploadedAt: new Date().toISOString(),
  };
}

const checksumOf = (head: HeadObjectCommandOutput | undefined) => head?.ChecksumSHA256;

/** Size always; the server's checksum when it keeps one (some S3 servers do not). */
function matchesRecord(head: HeadObjectCommandOutput, record: RemoteObjectRecord): boolean {
  if (head.ContentLength !== record.sizeBytes) return false;
  const server = checksumOf(head);
  return !server || !record.serverChecksum || server === record.serverChecksum;
}

async function collect(input: Buffer, through: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  through.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    through.on('end', resolve);
    through.on('error', reject);
  });
  through.end(input);
  await done;
  return Buffer.concat(out);
}
