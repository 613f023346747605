// A real S3-compatible server for the off-site tests: versitygw (posix backend) on a free
// loopback port, its objects in a temporary directory (so a test can also look at, and
// damage, the stored bytes), with root credentials generated here and recorded for the
// suite's secret scan.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execa, type ResultPromise } from 'execa';
import { ensureVersitygw } from '../../scripts/ensure-tools';
import { freePort } from './free-port';
import { recordTestSecrets } from './secret-scan';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The posix backend's root: `<root>/<bucket>/<key>` is an object's bytes. */
  root: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Keys under `prefix`, sorted. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  unfinishedUploads(bucket: string, prefix?: string): Promise<Array<{ key: string; uploadId: string }>>;
  /** With `tls`: the self-signed certificate the server presents (its own CA). */
  caFile?: string;
  /** Where an object's bytes are on disk. */
  objectPath(bucket: string, key: string): string;
  stop(): Promise<void>;
}

/** A deployment's `backup.offsite` on this server: credentials (and, when `encrypted`, the
 * key) as the env-file variables S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and
 * OFFSITE_ENCRYPTION_KEY, which the caller writes. */
export function offsiteConfig(
  s3: TestS3,
  bucket: string,
  opts: { encrypted?: boolean } & Record<string, unknown> = {},
): Record<string, unknown> {
  const { encrypted = true, ...extra } = opts;
  return {
    kind: 's3',
    endpoint: s3.endpoint,
    region: s3.region,
    bucket,
    forcePathStyle: true,
    accessKeyIdVar: 'S3_ACCESS_KEY_ID',
    secretAccessKeyVar: 'S3_SECRET_ACCESS_KEY',
    ...(encrypted ? { encryptionKeyVar: 'OFFSITE_ENCRYPTION_KEY' } : {}),
    ...extra,
  };
}

/** `tls`: https://localhost with a self-signed certificate (pgBackRest speaks S3 over TLS only). */
export async function startS3(opts: { tls?: boolean } = {}): Promise<TestS3> {
  const bin = await ensureVersitygw({ quiet: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-s3-'));
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const caFile = opts.tls ? path.join(dir, 'cert.pem') : undefined;
  const keyFile = path.join(dir, 'key.pem');
  if (caFile) {
    await execa('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', caFile,
    ]); // prettier-ignore
    // pgBackRest reads the CA as the cluster's OS user: the certificate (never the key) is public.
    chmodSync(dir, 0o755);
    chmodSync(caFile, 0o644);
    chmodSync(root, 0o700);
  }
  const port = await freePort();
  const accessKeyId = `DAY2TEST${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64url');
  recordTestSecrets(accessKeyId, secretAccessKey);
  const region = 'us-east-1';
  // pgBackRest matches the certificate by host name only (not an IP address SAN).
  const endpoint = caFile ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const tlsArgs = caFile ? ['--cert', caFile, '--key', keyFile] : [];
  // Credentials through the environment, not argv: `ps` shows every process's arguments.
  const child: ResultPromise = execa(bin, ['--port', `127.0.0.1:${port}`, '--region', region, '--quiet', ...tlsArgs, 'posix', root], {
    env: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
    extendEnv: false,
    reject: false,
    stdout: 'ignore',
    stderr: 'pipe',
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    ...(caFile ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: readFileSync(caFile) }) }) } : {}),
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await client.send(new ListObjectsV2Command({ Bucket: 'day2-probe', MaxKeys: 1 }));
      break;
    } catch (err) {
      // A NoSuchBucket answer means the server is up.
      if ((err as { name?: string }).name === 'NoSuchBucket') break;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`versitygw did not start on ${endpoint}: ${stderr.trim().slice(-500)}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    root,
    client,
    caFile,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket, prefix) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        out.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    async unfinishedUploads(bucket, prefix) {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (page.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
    },
    objectPath: (bucket, key) => path.join(root, bucket, ...key.split('/')),
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await child;
      if (!process.env.DAY2_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
}
