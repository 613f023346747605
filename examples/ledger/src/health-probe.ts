// Asks a local API which process answers /health, so `ctl start` knows its own child is up.
import http from 'node:http';

export function healthPid(port: number, timeoutMs = 1_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { status?: unknown; pid?: unknown };
          resolve(res.statusCode === 200 && typeof parsed.pid === 'number' ? parsed.pid : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
