// A throwaway ledger deployment for tests and demos: a directory holding the env file
// (and, beside it, run/), a port, and helpers to run ctl and call the API. Only needs a
// database URL, so day2's own end-to-end tests can use it too.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';

const CTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/ctl.ts');
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CtlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  /** Parsed JSON (or the raw text): tests read fields freely, so it is left untyped. */
  body: any;
}

export type EnvVars = Record<string, string | undefined>;

export interface LedgerDeployment {
  dir: string;
  envFile: string;
  port: number;
  env: EnvVars;
  /** Merges `changes` into the env file (undefined removes a variable) and rewrites it. */
  updateEnv(changes: EnvVars): void;
  ctl(...args: string[]): Promise<CtlResult>;
  http(method: string, urlPath: string, opts?: { key?: string; body?: unknown }): Promise<HttpResult>;
  /** Polls /health/ready until it answers 200 or the time is up; returns the last answer. */
  waitReady(timeoutMs?: number): Promise<HttpResult>;
}

export function newApiKeySecret(): string {
  return randomBytes(32).toString('hex');
}

/** An Ed25519 private key as VAULT_SIGNING_KEY wants it, and its public key for a keyring. */
export function newSigningKey(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

export function createLedgerDeployment(opts: {
  databaseUrl: string;
  port: number;
  version: string;
  extraEnv?: EnvVars;
  baseDir?: string;
}): LedgerDeployment {
  const dir = mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'ledger-'));
  const envFile = path.join(dir, '.env');
  const deployment: LedgerDeployment = {
    dir,
    envFile,
    port: opts.port,
    env: {
      DATABASE_URL: opts.databaseUrl,
      PORT: String(opts.port),
      LEDGER_VERSION: opts.version,
      API_KEY_SECRET: newApiKeySecret(),
      VAULT_SIGNING_KEY: newSigningKey().privateKey,
      ...opts.extraEnv,
    },
    updateEnv(changes) {
      Object.assign(this.env, changes);
      const lines = Object.entries(this.env)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${value}`);
      writeFileSync(envFile, `# written by ledger-deployment\n${lines.join('\n')}\n`);
    },
    async ctl(...args) {
      // Run from the deployment directory: ctl must not depend on the caller's cwd.
      const result = await execa(process.execPath, ['--import', TSX_LOADER, CTL, ...args, '--env-file', envFile], {
        cwd: dir,
        reject: false,
      });
      return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
    },
    async http(method, urlPath, { key, body } = {}) {
      const headers: Record<string, string> = {};
      if (key !== undefined) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`http://127.0.0.1:${opts.port}${urlPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (metrics): keep the text.
      }
      return { status: res.status, body: parsed };
    },
    async waitReady(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = await this.http('GET', '/health/ready').catch(() => ({ status: 0, body: null }));
        if (answer.status === 200 || Date.now() > deadline) return answer;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
  deployment.updateEnv({});
  return deployment;
}
