// Headless Chromium from Debian's `chromium` package, driven over the DevTools protocol on
// a pipe (--remote-debugging-pipe: JSON messages on fds 3 and 4), so no driver library is
// needed. Why not the simpler --screenshot / --dump-dom flags: they capture either at the
// load event (before a JS app like the Temporal Web UI has fetched anything) or, with
// --virtual-time-budget, never — a running workflow's page long-polls its history, and
// virtual time does not advance while a request is pending. Here we wait until the page
// shows what we expect, then capture. Each run gets a fresh profile directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

/** The browser's path; a clear error (with the install command) when there is none. */
export async function findChromium(): Promise<string> {
  const explicit = process.env.DAY2_CHROMIUM;
  if (explicit) return explicit;
  for (const name of CANDIDATES) {
    const r = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
    if (r.exitCode === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new Error(
    'Chromium is not installed: run `apt-get update && apt-get install -y chromium` (Debian), or set DAY2_CHROMIUM=/path/to/chrome',
  );
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--remote-debugging-pipe',
];

/** DevTools protocol over the pipe: one JSON message per NUL-terminated chunk. */
class DevTools {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
  }

  send<T = unknown>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string } };
      this.buffer = this.buffer.slice(end + 1);
      const waiter = message.id !== undefined ? this.pending.get(message.id) : undefined;
      if (!waiter) continue; // an event: not needed here
      this.pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
    }
  }
}

export interface Page {
  /** The value of a JavaScript expression evaluated in the page. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** The text a person sees. */
  text(): Promise<string>;
  /** The DOM after scripts ran, as HTML. */
  html(): Promise<string>;
  /** Polls until every string appears in the page's text; returns the ones still missing. */
  waitForText(expected: string[], timeoutMs?: number): Promise<string[]>;
  screenshot(pngPath: string): Promise<void>;
}

export interface PageOptions {
  width?: number;
  height?: number;
}

/** Opens `url` in a fresh headless Chromium, runs `fn` with the page, closes the browser. */
export async function withPage<T>(url: string, opts: PageOptions, fn: (page: Page) => Promise<T>): Promise<T> {
  const browser = await findChromium();
  const profile = mkdtempSync(path.join(os.tmpdir(), 'day2-chromium-'));
  const child: ChildProcess = spawn(browser, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const devtools = new DevTools(child.stdio[3] as Writable, child.stdio[4] as Readable);
  child.once('exit', (code) => devtools.failAll(new Error(`chromium exited (${code}): ${stderr.split('\n').slice(-5).join('\n')}`)));
  try {
    const { targetId } = await devtools.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devtools.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const page = makePage(devtools, sessionId);
    const width = opts.width ?? 1440;
    const height = opts.height ?? 1000;
    await devtools.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    await devtools.send('Page.enable', {}, sessionId);
    await devtools.send('Page.navigate', { url }, sessionId);
    return await fn(page);
  } finally {
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    void devtools.send('Browser.close').catch(() => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // Helper processes may still be flushing the profile for a moment.
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

const FRAME_DOCUMENTS = `[...document.querySelectorAll('iframe')].map((f) => { try { return f.contentDocument; } catch { return null; } }).filter(Boolean)`;

function makePage(devtools: DevTools, sessionId: string): Page {
  const page: Page = {
    async evaluate<T>(expression: string) {
      const r = await devtools.send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
        'Runtime.evaluate',
        { expression, returnByValue: true, awaitPromise: true },
        sessionId,
      );
      if (r.exceptionDetails) throw new Error(`page script failed: ${r.exceptionDetails.text}`);
      return r.result.value;
    },
    // Same-origin iframes count as part of the page: the Temporal UI renders Markdown
    // (a workflow's current details) in one.
    text: () => page.evaluate<string>(`[document, ...${FRAME_DOCUMENTS}].map((d) => d.body ? d.body.innerText : '').join('\\n')`),
    html: () =>
      page.evaluate<string>(
        `[document, ...${FRAME_DOCUMENTS}].map((d, i) => (i ? '\\n<!-- iframe ' + i + ' -->\\n' : '') + d.documentElement.outerHTML).join('')`,
      ),
    async waitForText(expected, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let missing = expected;
      while (Date.now() < deadline) {
        const text = await page.text().catch(() => '');
        missing = expected.filter((s) => !text.includes(s));
        if (missing.length === 0) return [];
        await new Promise((r) => setTimeout(r, 250));
      }
      return missing;
    },
    async screenshot(pngPath) {
      const { data } = await devtools.send<{ data: string }>('Page.captureScreenshot', { format: 'png' }, sessionId);
      writeFileSync(pngPath, Buffer.from(data, 'base64'));
    },
  };
  return page;
}
