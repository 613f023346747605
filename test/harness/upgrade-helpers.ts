// Helpers for the upgrade and rollback end-to-end tests: what the service reports, what
// its files say, and two "holds" that stop an upgrade at a chosen point so a test can kill
// the worker exactly there instead of racing it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import YAML from 'yaml';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { withClient } from '../../src/activities/shared/pg-connection';
import { progressQuery } from '../../src/domain/messages';
import type { E2E } from './e2e';

/** /conformance's `version`, and whether /health/ready answers 200. */
export async function serviceState(baseUrl: string): Promise<{ version: string; ready: boolean }> {
  const conformance = (await (await fetch(`${baseUrl}/conformance`)).json()) as { version: string };
  const ready = (await fetch(`${baseUrl}/health/ready`)).status === 200;
  return { version: conformance.version, ready };
}

export function fileVersions(e2e: E2E): { env: string | undefined; file: string } {
  const env = /^LEDGER_VERSION=(.*)$/m.exec(readFileSync(e2e.deployment.envFile, 'utf8'))?.[1];
  return { env, file: readFileSync(e2e.deployment.versionFile, 'utf8').trim() };
}

/** Every table's checksum, except the migration bookkeeping (an upgrade adds to it), and
 * `entries` by the columns release 1.0.0 created (1.2.0 adds and backfills one). */
export async function dataFingerprint(url: string): Promise<Record<string, string>> {
  const all = await tableChecksums(url);
  delete all['public.schema_migrations'];
  delete all['public.migration_log'];
  all['public.entries'] = await withClient(url, async (c) => {
    const { rows } = await c.query<{ n: string; md5: string }>(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(row(seq, payload, prev_hash, hash, signature, key_id, created_at)::text, E'\\n' ORDER BY seq), '')) AS md5 FROM entries`,
    );
    return `rows=${rows[0]!.n} md5=${rows[0]!.md5}`;
  });
  return all;
}

/** The tables `before` knew have the same rows now (new tables may have appeared). */
export function assertDataKept(before: Record<string, string>, after: Record<string, string>): void {
  for (const [table, sum] of Object.entries(before)) assert.equal(after[table], sum, `${table} changed`);
}

/** migration_log: one row per `migrate` run that applied something. */
export async function migrationLog(url: string): Promise<Array<{ target: string; applied: string[] }>> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ target: string; applied: string[] }>(
      'SELECT target_release AS target, applied FROM migration_log ORDER BY id',
    );
    return rows;
  });
}

export async function waitForStep(e2e: E2E, step: string, status: string, timeoutMs = 60_000): Promise<void> {
  const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.steps.some((s) => s.name === step && s.status === status)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`step '${step}' never reached ${status}`);
}

/** A proxy in front of /health/ready that answers 503 while `held`: the workflow's
 * readiness wait then lasts as long as the test wants. */
export async function readinessHold(): Promise<{ url: string; held: boolean; target: string; close(): Promise<void> }> {
  const hold = { url: '', held: false, target: '', close: async () => {} };
  const server = http.createServer((req, res) => {
    if (hold.held) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"ready":false,"reason":"held by the test"}');
      return;
    }
    fetch(`${hold.target}/health/ready`, { signal: AbortSignal.timeout(2000) }).then(
      async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
      () => res.writeHead(502).end('ledger unreachable'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hold.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health/ready`;
  hold.close = () => new Promise((resolve) => server.close(() => resolve()));
  return hold;
}

/** Rewrites the deployment's day2.yaml (before a worker starts): readiness through
 * `readyUrl`, its timeout, and a `stop` that waits while `holdFile` exists — so the
 * upgrade's restart can be held after the migrations have run. */
export function patchConfig(e2e: E2E, opts: { readyUrl: string; readyTimeoutSeconds: number; holdFile: string }): void {
  const file = e2e.deployment.configFile;
  const config = YAML.parse(readFileSync(file, 'utf8'));
  const d = config.deployments[e2e.deployment.name];
  d.health.ready = opts.readyUrl;
  d.health.timeoutSeconds = opts.readyTimeoutSeconds;
  d.runtime.stop = `while [ -e '${opts.holdFile}' ]; do sleep 0.1; done; ${d.runtime.stop}`;
  writeFileSync(file, YAML.stringify(config));
}

/** Sets the deployment's readiness budget in day2.yaml (before a worker starts). */
export function setReadyTimeout(e2e: E2E, seconds: number): void {
  const file = e2e.deployment.configFile;
  const config = YAML.parse(readFileSync(file, 'utf8'));
  config.deployments[e2e.deployment.name].health.timeoutSeconds = seconds;
  writeFileSync(file, YAML.stringify(config));
}
