// Routing, error mapping and the one-line-per-request log.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { messageOf } from './errors';
import { HttpError, sendJson } from './http-io';
import { getEntries, getWhoami, postEntry } from './routes-entries';
import { getConformance, getHealth, getMetrics, getReady } from './routes-health';
import type { ServiceContext } from './service-context';

type Handler = (ctx: ServiceContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/health': { GET: getHealth },
  '/health/ready': { GET: getReady },
  '/conformance': { GET: getConformance },
  '/metrics': { GET: getMetrics },
  '/whoami': { GET: getWhoami },
  '/entries': { GET: getEntries, POST: postEntry },
};

export function createRequestListener(ctx: ServiceContext): RequestListener {
  return (req, res) => {
    const started = performance.now();
    // Only the path is logged: never headers (Authorization) or bodies.
    const path = new URL(req.url ?? '/', 'http://ledger').pathname;
    res.on('finish', () => {
      ctx.log.info('request', {
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    });
    void dispatch(ctx, req, res, path);
  };
}

async function dispatch(ctx: ServiceContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  try {
    const methods = ROUTES[path];
    if (!methods) throw new HttpError(404, 'not found');
    const handler = methods[req.method ?? 'GET'];
    if (!handler) throw new HttpError(405, `method ${req.method} not allowed on ${path}`);
    await handler(ctx, req, res);
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
    ctx.log.error('request failed', { path, error: messageOf(error) });
    sendJson(res, 500, { error: 'internal error' });
  }
}
