// The deployment's copies in the bucket, newest first: every `<file>.manifest.json` under
// the prefix, checked against the object beside it (there, and of the recorded size).
import { ListObjectsV2Command, type _Object } from '@aws-sdk/client-s3';
import { REMOTE_MANIFEST_SUFFIX, remoteKeyringKey, type RemoteCopy, type RemoteManifest } from '../../domain/offsite';
import { s3Call, type OffsiteTarget } from './s3-client';
import type { BackupManifest } from '../../domain/types';
import { openBackupManifest } from './remote-manifest';
import { readRemoteManifest } from './upload';

export interface ListedCopy {
  copy: RemoteCopy;
  manifest?: RemoteManifest;
  manifestKey: string;
  objectKey: string;
}

export async function listObjects(t: OffsiteTarget): Promise<Map<string, _Object>> {
  const objects = new Map<string, _Object>();
  let token: string | undefined;
  do {
    const page = await s3Call(t, `list ${t.where}`, () =>
      t.s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: t.prefix, ContinuationToken: token })),
    );
    for (const o of page.Contents ?? []) if (o.Key) objects.set(o.Key, o);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

export async function listRemoteCopies(t: OffsiteTarget, deployment: string): Promise<ListedCopy[]> {
  const objects = await listObjects(t);
  const listed: ListedCopy[] = [];
  for (const key of objects.keys()) {
    if (!key.endsWith(REMOTE_MANIFEST_SUFFIX) || key === remoteKeyringKey(t.prefix)) continue;
    const objectKey = key.slice(0, -REMOTE_MANIFEST_SUFFIX.length);
    const file = objectKey.slice(t.prefix.length);
    if (!file || file.includes('/')) continue;
    let manifest: RemoteManifest | undefined;
    let problem: string | undefined;
    try {
      manifest = await readRemoteManifest(t, key);
    } catch (err) {
      problem = (err as Error).message;
    }
    const object = objects.get(objectKey);
    // An encrypted copy's deployment and app version are sealed in its manifest: known when
    // the configured key opens it; else the copy is taken as ours by its name.
    let opened: BackupManifest | undefined;
    if (manifest && !problem && (!manifest.sealed || (t.key && manifest.object.keyId === t.key.id))) {
      try {
        opened = openBackupManifest(t, manifest);
      } catch (err) {
        problem = (err as Error).message;
      }
    }
    const owner = opened?.deployment ?? (file.startsWith(`${deployment}-`) ? deployment : undefined);
    if (manifest && !problem) {
      if (manifest.file !== file) problem = `its manifest describes ${manifest.file}`;
      else if (!owner)
        problem = `its manifest is sealed with key ${manifest.object.keyId}, not the configured one, and its name is not ${deployment}'s`;
      else if (owner !== deployment) problem = `it belongs to deployment '${owner}'`;
      else if (!object) problem = 'the object is missing';
      else if (object.Size !== manifest.object.sizeBytes)
        problem = `the object has ${object.Size} bytes but its manifest says ${manifest.object.sizeBytes}`;
    }
    listed.push({
      manifestKey: key,
      objectKey,
      manifest,
      copy: {
        file,
        deployment: owner ?? 'unknown',
        createdAt: manifest?.createdAt ?? object?.LastModified?.toISOString() ?? '',
        sizeBytes: manifest?.sizeBytes ?? object?.Size ?? 0,
        appVersion: opened?.appVersion ?? null,
        encrypted: manifest?.object.encrypted ?? false,
        ...(manifest?.object.keyId ? { keyId: manifest.object.keyId } : {}),
        verified: Boolean(manifest) && !problem,
        ...(problem ? { problem } : {}),
      },
    });
  }
  return listed.sort((a, b) => Date.parse(b.copy.createdAt) - Date.parse(a.copy.createdAt) || b.copy.file.localeCompare(a.copy.file));
}
