// The Temporal codec-server protocol over plain node:http, so the Web UI (or `temporal`
// CLI) can show decrypted payloads to someone who holds the key: POST /decode and POST
// /encode take and return `{ "payloads": [{ "metadata": {k: base64}, "data": base64 }] }`.
// Browsers call it cross-origin from the UI, so it answers CORS preflights for the
// configured UI origins only, and refuses requests from any other origin outright (a
// page elsewhere must not be able to use it as a decryption oracle). It decrypts for
// anyone who can reach it: keep it on 127.0.0.1 (the default) or behind your own auth.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import { payloadFromJson, payloadToJson, type JsonPayload } from './payload-json';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface CodecServerOptions {
  codecs: PayloadCodec[];
  /** Origins allowed to call it from a browser, e.g. http://127.0.0.1:8233. */
  corsOrigins: string[];
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createCodecServer(opts: CodecServerOptions): Server {
  const allowed = new Set(opts.corsOrigins.map(normalizeOrigin));
  return createServer((req, res) => {
    void handle(req, res, opts, allowed).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 400;
      const message = err instanceof Error ? err.message : String(err);
      opts.log?.(`${req.method} ${req.url} → ${status}: ${message}`);
      if (!res.headersSent) send(res, status, { error: message });
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: CodecServerOptions, allowed: Set<string>): Promise<void> {
  const origin = req.headers.origin;
  if (origin) {
    if (!allowed.has(normalizeOrigin(origin))) throw new HttpError(403, `origin ${origin} is not allowed (see --cors-origin)`);
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Max-Age', '600');
    res.writeHead(204).end();
    return;
  }
  const action = new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/+$/, '').split('/').pop();
  if (action !== 'decode' && action !== 'encode') throw new HttpError(404, 'expected POST /decode or POST /encode');
  if (req.method !== 'POST') throw new HttpError(405, `expected POST, not ${req.method}`);

  const body = await readJson(req);
  const payloads = (body.payloads ?? []).map(payloadFromJson);
  let out = payloads;
  if (action === 'decode') for (const codec of [...opts.codecs].reverse()) out = await codec.decode(out);
  else for (const codec of opts.codecs) out = await codec.encode(out);
  send(res, 200, { payloads: out.map(payloadToJson) });
}

async function readJson(req: IncomingMessage): Promise<{ payloads?: JsonPayload[] }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { payloads?: unknown }).payloads)) {
    throw new HttpError(400, 'expected {"payloads": [...]}');
  }
  return body as { payloads: JsonPayload[] };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** Listens and resolves with the bound address (port 0 picks a free one). */
export async function listen(server: Server, port: number, host: string): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, port: bound };
}
