// Remote retention, of its own: keep the newest `keep` copies and/or those younger than
// `keepDays`, and never the newest verified copy (nor the one just sent). The object goes
// first, then its manifest: a crash in between leaves a manifest of a missing object,
// which is listed as not verified (and left for a person), never a big unlisted orphan.
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '../../logger';
import { listRemoteCopies } from './list';
import { s3Call, type OffsiteTarget } from './s3-client';

const DAY_MS = 24 * 3600 * 1000;

export async function applyRemoteRetention(
  t: OffsiteTarget,
  deployment: string,
  protect: string[],
  logger: Logger,
  now = Date.now(),
): Promise<string[]> {
  const { keep, keepDays } = t.config;
  if (keep === undefined && keepDays === undefined) return [];
  // Only this deployment's copies: another deployment sharing the prefix is not ours to prune.
  const copies = (await listRemoteCopies(t, deployment)).filter((c) => c.copy.deployment === deployment);
  const newestVerified = copies.find((c) => c.copy.verified)?.copy.file;
  const deleted: string[] = [];
  let rank = 0;
  for (const c of copies) {
    const { file, createdAt } = c.copy;
    const withinCount = keep === undefined || rank < keep;
    const withinAge = keepDays === undefined || now - Date.parse(createdAt) <= keepDays * DAY_MS;
    // A copy that does not verify is listed as such for a person to look at, never pruned.
    if (!c.copy.verified) continue;
    rank++;
    if ((withinCount && withinAge) || file === newestVerified || protect.includes(file)) continue;
    await s3Call(t, `delete ${c.objectKey}`, () => t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: c.objectKey })));
    await s3Call(t, `delete ${c.manifestKey}`, () => t.s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: c.manifestKey })));
    deleted.push(file);
  }
  if (deleted.length) logger.info({ deployment, where: t.where, deleted }, 'off-site retention applied');
  return deleted;
}
