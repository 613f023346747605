// The S3 client of a deployment's `backup.offsite`, its credentials and encryption key read
// from the env file at each use (so a rotated key is picked up, and none ever passes through
// a workflow), and S3 failures turned into what an operator can act on, with the
// credentials masked out of every message.
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { failure } from '../../domain/failures';
import type { DeploymentConfig } from '../../domain/config-schema';
import { ConfigError } from '../../config';
import { offsitePrefix, type OffsiteConfig } from '../../domain/offsite';
import { readEnvFile } from '../../envfile';
import { parseEncryptionKey, type EncryptionKey } from './encryption';

// The SDK warns on every process under Node 20 (it will need Node 22 from 2027); day2
// supports Node 20 and says so itself, so the warning would only bury the CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface OffsiteTarget {
  s3: S3Client;
  config: OffsiteConfig;
  bucket: string;
  prefix: string;
  /** Absent: copies are sent as they are (no encryptionKeyVar). */
  key?: EncryptionKey;
  /** `s3://bucket/prefix` for messages. */
  where: string;
  /** Replaces the credentials' values in a text (error messages). */
  mask(text: string): string;
}

export function offsiteConfigOf(d: DeploymentConfig, deployment: string): OffsiteConfig {
  const c = d.backup.offsite;
  if (!c) throw new ConfigError(`deployment ${deployment} has no backup.offsite in day2.yaml: there are no off-site copies to use`);
  return c;
}

export async function offsiteTarget(d: DeploymentConfig, deployment: string): Promise<OffsiteTarget> {
  const config = offsiteConfigOf(d, deployment);
  const env = await readEnvFile(d.envFile);
  const need = (name: string) => {
    const value = env.get(name);
    if (!value) throw new ConfigError(`${name} is not set in ${d.envFile} (backup.offsite of ${deployment} names it)`);
    return value;
  };
  const accessKeyId = need(config.accessKeyIdVar);
  const secretAccessKey = need(config.secretAccessKeyVar);
  const key = config.encryptionKeyVar
    ? parseEncryptionKey(need(config.encryptionKeyVar), `${config.encryptionKeyVar} in ${d.envFile}`)
    : undefined;
  const s3 = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    // Checksums on every request that supports them: a corrupted part is refused.
    requestChecksumCalculation: 'WHEN_SUPPORTED',
    responseChecksumValidation: 'WHEN_SUPPORTED',
    maxAttempts: 3,
  });
  const prefix = offsitePrefix(deployment, config);
  const secrets = [secretAccessKey, accessKeyId].filter((s) => s.length >= 4);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('[REDACTED]'), text);
  return { s3, config, bucket: config.bucket, prefix, key, where: `s3://${config.bucket}/${prefix}`, mask };
}

/** An S3 (or network) failure as a Temporal failure an operator can read: the bucket, what
 * went wrong and what to check. Refusals (credentials, no such bucket, access denied) are
 * not retried; an unreachable server is (the activity's retry policy rides out a blip). */
export function s3Failure(t: Pick<OffsiteTarget, 'config' | 'bucket' | 'mask'>, doing: string, err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const c = t.config;
  const server = c.endpoint ?? `AWS S3 (${c.region})`;
  const creds = `${c.accessKeyIdVar} / ${c.secretAccessKeyVar} in the env file`;
  const name = (err as { name?: string; Code?: string }).Code ?? (err as Error).name ?? 'Error';
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  const code = networkCode(err);
  let message: string;
  let retryable = false;
  if (code) {
    message = `cannot reach the S3 server ${server} (${code}) while trying to ${doing}`;
    retryable = true;
  } else if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'AuthorizationHeaderMalformed'].includes(name)) {
    message = `the S3 server ${server} refused the credentials (${name}) — check ${creds}`;
  } else if (name === 'NoSuchBucket' || (status === 404 && /bucket/i.test(doing))) {
    message = `bucket '${t.bucket}' does not exist on ${server} (NoSuchBucket) — create it, or fix backup.offsite.bucket`;
  } else if (name === 'AccessDenied' || status === 403) {
    message = `the S3 server ${server} denied access to bucket '${t.bucket}' (${name}) — check the bucket policy and ${creds}`;
  } else if (status !== undefined && status >= 500) {
    message = `the S3 server ${server} failed (${status} ${name}) while trying to ${doing}`;
    retryable = true;
  } else {
    message = `could not ${doing} on ${server}: ${name}${(err as Error).message && (err as Error).message !== name ? `: ${(err as Error).message}` : ''}`;
    retryable = status === undefined;
  }
  message = t.mask(message);
  return failure(retryable ? 'OffsiteUnavailable' : 'OffsiteRefused', message);
}

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: string; cause?: unknown; name?: string } | undefined; e; e = e.cause as typeof e) {
    if (e.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE)$/.test(e.code)) return e.code;
    if (e.name === 'TimeoutError') return 'timed out';
  }
  const errors = (err as { errors?: unknown[] }).errors;
  if (Array.isArray(errors)) for (const inner of errors) if (networkCode(inner)) return networkCode(inner);
  return undefined;
}

/** Runs one S3 call, turning its failure into s3Failure's. */
export async function s3Call<T>(t: OffsiteTarget, doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw s3Failure(t, doing, err);
  }
}

export const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};
