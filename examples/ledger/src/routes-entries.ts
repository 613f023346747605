// Authenticated API: who am I, append to the vault, list the vault.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyIdentity } from './api-keys';
import { verifyApiKey } from './api-keys';
import { bearerToken, HttpError, readJsonBody, sendJson } from './http-io';
import type { ServiceContext } from './service-context';
import { appendEntries, readEntries } from './vault';

async function authenticate(ctx: ServiceContext, req: IncomingMessage): Promise<ApiKeyIdentity> {
  if (!ctx.apiKeySecrets.ok) throw new HttpError(503, `API keys cannot be verified: ${ctx.apiKeySecrets.problem}`);
  const token = bearerToken(req);
  if (token === undefined) throw new HttpError(401, 'missing bearer token');
  const identity = await verifyApiKey(ctx.pool, ctx.apiKeySecrets.value, token);
  if (!identity) throw new HttpError(401, 'invalid API key');
  return identity;
}

export async function getWhoami(ctx: ServiceContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, await authenticate(ctx, req));
}

export async function postEntry(ctx: ServiceContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await authenticate(ctx, req);
  if (!ctx.signingKey.ok) throw new HttpError(503, `cannot sign entries: ${ctx.signingKey.problem}`);
  const payload = await readJsonBody(req);
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new HttpError(400, 'body must be a JSON object');
  }
  const client = await ctx.pool.connect();
  try {
    const [entry] = await appendEntries(client, ctx.signingKey.value, [payload], {
      recordPayloadBytes: ctx.release.recordsPayloadBytes,
    });
    sendJson(res, 201, entry);
  } finally {
    client.release();
  }
}

export async function getEntries(ctx: ServiceContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const query = new URL(req.url ?? '/', 'http://ledger').searchParams;
  const after = intParam(query.get('after'), 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(query.get('limit'), 100, 1, 1000);
  const entries = await readEntries(ctx.pool, after, limit);
  sendJson(res, 200, { entries: entries.map(({ seq, hash, keyId }) => ({ seq, hash, keyId })) });
}

function intParam(text: string | null, fallback: number, min: number, max: number): number {
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, `expected an integer between ${min} and ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
