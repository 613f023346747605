// `npm run bench:offsite`: what day2's off-site copy costs against a plain upload of the
// same file to the same S3 server (versitygw on loopback, posix backend).
//
//   day2    uploadBackupCopy: read once, SHA-256 of the dump, AES-256-GCM (when
//           DAY2_BENCH_ENCRYPT is not 0), SHA-256 whole and per part, multipart upload with a
//           SHA-256 checksum per part, HeadObject to compare the server's checksum, the
//           remote manifest.
//   plain   one @aws-sdk/lib-storage Upload of the same file (multipart, same part size and
//           concurrency, the SDK's default CRC32 request checksums), nothing else.
//
// A ~200 MB file of random bytes (incompressible, like a pg_dump -Fc archive), each kind
// run DAY2_BENCH_RUNS times (default 3), alternating; the median time and throughput of
// each, and their ratio. Every day2 copy is checked (its manifest's SHA-256 against the
// object's bytes on disk). Timings are printed, never asserted.
// Knobs: DAY2_BENCH_MB (file size, default 200), DAY2_BENCH_RUNS, DAY2_BENCH_ENCRYPT=0.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parseEncryptionKey } from '../src/activities/offsite/encryption';
import type { OffsiteTarget } from '../src/activities/offsite/s3-client';
import { partSizeFor, uploadBackupCopy } from '../src/activities/offsite/upload';
import type { OffsiteConfig } from '../src/domain/offsite';
import type { BackupManifest } from '../src/domain/types';
import { createLogger } from '../src/logger';
import { startS3 } from '../test/harness/s3';

const MB = Number(process.env.DAY2_BENCH_MB || 200);
const RUNS = Number(process.env.DAY2_BENCH_RUNS || 3);
const ENCRYPT = process.env.DAY2_BENCH_ENCRYPT !== '0';
const BUCKET = 'day2-bench';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function writeRandomFile(file: string, bytes: number): Promise<{ sha256: string }> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let left = bytes; left > 0;) {
    const chunk = randomBytes(Math.min(left, 4 * 1024 * 1024));
    hash.update(chunk);
    left -= chunk.length;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { sha256: hash.digest('hex') };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'day2-bench-offsite-'));
  const s3 = await startS3();
  try {
    await s3.createBucket(BUCKET);
    const file = path.join(dir, 'bench-2026-01-01-000000.dump');
    const bytes = MB * 1000 * 1000;
    const { sha256 } = await writeRandomFile(file, bytes);
    const config: OffsiteConfig = {
      kind: 's3',
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: BUCKET,
      forcePathStyle: true,
      accessKeyIdVar: 'X',
      secretAccessKeyVar: 'Y',
    };
    const target: OffsiteTarget = {
      s3: s3.client,
      config,
      bucket: BUCKET,
      prefix: 'day2/',
      key: ENCRYPT ? parseEncryptionKey(randomBytes(32).toString('hex'), 'bench key') : undefined,
      where: `s3://${BUCKET}/day2/`,
      mask: (t) => t,
    };
    const logger = createLogger('bench', 'warn');
    const day2: number[] = [];
    const plain: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const manifest: BackupManifest = {
        file: path.basename(file),
        deployment: 'bench',
        database: 'bench',
        serverVersion: '15',
        appVersion: null,
        sizeBytes: bytes,
        sha256,
        createdAt: new Date().toISOString(),
        workflowId: 'bench',
        runId: `run${run}`,
        tocEntries: 1,
      };
      // Each run starts from an empty prefix, so day2 really uploads (no reuse).
      for (const key of await s3.keys(BUCKET)) await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      let t0 = Date.now();
      const out = await uploadBackupCopy(target, file, manifest, logger);
      day2.push((Date.now() - t0) / 1000);
      if (out.reused) throw new Error('day2 reused a copy: the bench measured nothing');
      const m = JSON.parse(readFileSync(s3.objectPath(BUCKET, `day2/${manifest.file}.manifest.json`), 'utf8')) as {
        object: { sha256: string };
      };
      const stored = createHash('sha256')
        .update(readFileSync(s3.objectPath(BUCKET, out.key)))
        .digest('hex');
      if (stored !== m.object.sha256) throw new Error('day2 copy does not match its manifest');

      t0 = Date.now();
      await new Upload({
        client: s3.client,
        params: { Bucket: BUCKET, Key: `plain/${manifest.file}`, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }) },
        partSize: partSizeFor(bytes),
        queueSize: 4,
      }).done();
      plain.push((Date.now() - t0) / 1000);
      console.log(`run ${run + 1}/${RUNS}: day2 ${day2.at(-1)!.toFixed(2)} s, plain Upload ${plain.at(-1)!.toFixed(2)} s`);
    }
    const d = median(day2);
    const p = median(plain);
    console.log(`\n${MB} MB, ${RUNS} runs each, medians (versitygw ${s3.endpoint}, posix backend on ${os.tmpdir()}):`);
    console.log(
      `  day2 off-site copy (${ENCRYPT ? 'AES-256-GCM, ' : ''}SHA-256 per part, verified, manifest): ${d.toFixed(2)} s  ${(MB / d).toFixed(0)} MB/s`,
    );
    console.log(`  plain lib-storage Upload (same part size and concurrency):            ${p.toFixed(2)} s  ${(MB / p).toFixed(0)} MB/s`);
    console.log(`  ratio day2 / plain: ${(d / p).toFixed(2)}× the time (throughput ${(p / d).toFixed(2)}×)`);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
