// What support-bundle.sh gathers, one function a section. A section that cannot be had
// (the database is down, a log file is gone) is reported in the bundle, not fatal: a bundle
// is wanted most when the service is broken. Every text passes through `scrubSecrets`
// with the env file's secret values, so a log line that echoes one is masked too.
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import type { BundleOmission, CheckResult } from '../../domain/types';
import type { Logger } from '../../logger';
import { secretVarNames } from '../shared/deployment-secrets';
import { failureLogDir, newestFailureLogs } from '../shared/failure-log';
import { bodySnippet, fetchErrorText, fetchWithTimeout } from '../../checks/http-match';
import { HealthConfigError, probeRequest } from '../runtime/health';
import { classifyConnectError, databaseTargetOf, quoteIdent, withClient } from '../shared/pg-connection';
import { runPgProgram } from '../shared/pg-programs';
import { redactEnvFile, scrubSecrets } from '../shared/redact';
import { runtimeFor } from '../runtime/select';
import { userTables } from '../shared/table-checksums';
import { tailLines } from '../shared/tail-lines';

/** A file of the bundle: a path inside its folder, and its (already scrubbed) text. */
export interface BundleFile {
  path: string;
  text: string;
}

export interface Section {
  result: CheckResult;
  files: BundleFile[];
  omitted?: BundleOmission[];
}

const HEALTH_BODY_CHARS = 4000;

/** The env file with secret values replaced, and the values themselves (kept in memory
 * only) for scrubbing every other section. */
export async function envSection(d: DeploymentConfig): Promise<Section & { secrets: string[] }> {
  const name = 'env file (secrets redacted)';
  let text: string;
  try {
    text = await readFile(d.envFile, 'utf8');
  } catch (err) {
    return {
      result: { name, ok: false, detail: `cannot read ${d.envFile}: ${(err as NodeJS.ErrnoException).code}` },
      files: [],
      secrets: [],
    };
  }
  const env = redactEnvFile(text, secretVarNames(d));
  const files: BundleFile[] = [{ path: `env/${path.basename(d.envFile)}`, text: env.text }];
  if (d.versionFile) {
    const version = await readFile(d.versionFile, 'utf8').catch((err: NodeJS.ErrnoException) => `(cannot read: ${err.code})\n`);
    files.push({ path: `env/${path.basename(d.versionFile)}`, text: scrubSecrets(version, env.secrets) });
  }
  return {
    result: { name, ok: true, detail: `${env.redacted.length} values redacted: ${env.redacted.join(', ') || 'none'}` },
    files,
    omitted: env.redacted.length
      ? [{ what: `values of ${env.redacted.join(', ')}`, why: 'secrets and connection strings: replaced by [REDACTED]' }]
      : [],
    secrets: env.secrets,
  };
}

/** The runtime's view of the services, and the last lines of each one's log. */
export async function servicesSections(d: DeploymentConfig, logger: Logger, logLines: number, secrets: string[]): Promise<Section[]> {
  const runtime = runtimeFor(d, logger);
  const state: Section = await runtime.serviceState().then(
    (text): Section =>
      text === null
        ? {
            result: { name: 'service state', ok: true, detail: 'not available: the runtime has no status command' },
            files: [],
            omitted: [{ what: 'service state', why: "the commands runtime has no 'status' command in day2.yaml" }],
          }
        : {
            result: { name: 'service state', ok: true, detail: firstLine(scrubSecrets(text, secrets)) },
            files: [{ path: 'services/state.txt', text: scrubSecrets(text, secrets) }],
          },
    (err: Error) => ({ result: { name: 'service state', ok: false, detail: scrubSecrets(err.message, secrets) }, files: [] }),
  );
  const logs = await runtime.serviceLogs(logLines);
  const services = Object.keys(logs);
  const logSection: Section = services.length
    ? {
        result: { name: 'service logs', ok: true, detail: `last ${logLines} lines of ${services.join(', ')}` },
        files: services.map((service) => ({ path: `logs/${service}.log`, text: ensureNewline(scrubSecrets(logs[service]!, secrets)) })),
      }
    : {
        result: { name: 'service logs', ok: true, detail: 'not available: no log source configured' },
        files: [],
        omitted: [{ what: 'service logs', why: "the commands runtime names no 'logFiles' in day2.yaml" }],
      };
  return [state, logSection, await failedCommandsSection(d, logLines, secrets)];
}

const FAILED_OUTPUTS = 5;

/** The whole output of the newest failed commands day2 ran (masked when kept; scrubbed
 * again, as the env file may hold new secrets since), the last `logLines` lines of each. */
async function failedCommandsSection(d: DeploymentConfig, logLines: number, secrets: string[]): Promise<Section> {
  const name = 'failed command output';
  const { total, files } = await newestFailureLogs(d, FAILED_OUTPUTS);
  const texts = await Promise.all(
    files.map((file) =>
      tailLines(file, logLines).then(
        (lines) => lines.join('\n'),
        (err: NodeJS.ErrnoException) => `(cannot read: ${err.code})`,
      ),
    ),
  );
  return {
    result: {
      name,
      ok: true,
      detail: total ? `the ${files.length} newest of ${total} in ${failureLogDir(d)}` : `none kept in ${failureLogDir(d)}`,
    },
    files: files.map((file, i) => ({ path: `failures/${path.basename(file)}`, text: ensureNewline(scrubSecrets(texts[i]!, secrets)) })),
    omitted:
      total > files.length
        ? [{ what: `${total - files.length} older failed command outputs`, why: `only the ${FAILED_OUTPUTS} newest are bundled` }]
        : [],
  };
}

/** The schema (no data) and the row count of every table. */
export async function databaseSection(d: DeploymentConfig, secrets: string[]): Promise<Section> {
  const name = 'database schema and row counts';
  const omitted = [{ what: 'table contents', why: 'a support bundle never holds data: the schema and row counts only' }];
  let target;
  try {
    target = await databaseTargetOf(d);
  } catch (err) {
    return { result: { name, ok: false, detail: scrubSecrets((err as Error).message, secrets) }, files: [], omitted };
  }
  try {
    const tables = await rowCounts(target.ownerLiveUrl);
    const schema = await runPgProgram({
      tool: 'pg_dump',
      args: ['--schema-only', '--no-owner', '--no-acl'],
      url: target.ownerLiveUrl,
      what: `schema of ${target.label}`,
      exec: target.exec,
    });
    const rows = Object.values(tables).reduce((a, b) => a + b, 0);
    return {
      result: { name, ok: true, detail: `${target.label}: ${Object.keys(tables).length} tables, ${rows} rows` },
      files: [
        { path: 'database/schema.sql', text: scrubSecrets(schema.stdout, secrets) },
        { path: 'database/row-counts.json', text: json({ database: target.label, tables }) },
      ],
      omitted,
    };
  } catch (err) {
    const where = `${d.databaseUrlVar} in ${d.envFile}`;
    const message = /pg_dump failed/.test((err as Error).message)
      ? (err as Error).message
      : classifyConnectError(err, target.label, where).message;
    return { result: { name, ok: false, detail: scrubSecrets(message, secrets) }, files: [], omitted };
  }
}

/** `{ 'public.entries': 20 }`: exact counts, every user table. */
async function rowCounts(url: string): Promise<Record<string, number>> {
  return withClient(url, async (client) => {
    const counts: Record<string, number> = {};
    for (const { schema, name } of await userTables(client)) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`);
      counts[`${schema}.${name}`] = Number(rows[0]!.n);
    }
    return counts;
  });
}

/** What the liveness, readiness and version endpoints answer right now. */
export async function healthSection(d: DeploymentConfig, secrets: string[]): Promise<Section> {
  const endpoints = Object.entries({ live: d.health.live, ready: d.health.ready, version: d.health.version }).filter(
    (e): e is [string, string] => Boolean(e[1]),
  );
  const answers: Record<string, unknown> = {};
  // Sent as readiness and version probes send them: an endpoint behind a token answers here too.
  const probes = { ready: ['readyCheck', d.health.readyCheck], version: ['versionCheck', d.health.versionCheck] } as const;
  for (const [kind, url] of endpoints) {
    const probe = probes[kind as keyof typeof probes];
    answers[kind] = await (probe ? probeRequest(d, probe[0], probe[1]) : Promise.resolve({ headers: {}, scrub: (t: string) => t }))
      .then(async (request) => {
        const res = await fetchWithTimeout(url, { headers: request.headers });
        const body = request.scrub((await res.text()).slice(0, HEALTH_BODY_CHARS));
        return { url: scrubSecrets(url, secrets), status: res.status, body: scrubSecrets(body, secrets) };
      })
      .catch((err: unknown) => ({
        url: scrubSecrets(url, secrets),
        error: err instanceof HealthConfigError ? (err as Error).message : fetchErrorText(err),
      }));
  }
  const summary = Object.entries(answers)
    .map(
      ([kind, a]) =>
        `${kind} ${'status' in (a as object) ? (a as { status: number }).status : bodySnippet((a as { error: string }).error, 40)}`,
    )
    .join(', ');
  return { result: { name: 'health endpoints', ok: true, detail: summary }, files: [{ path: 'health.json', text: json(answers) }] };
}

/** The host the worker runs on: versions, OS, memory, disk where the backups live. */
export async function systemSection(d: DeploymentConfig, day2Version: string): Promise<Section> {
  const disk = await statfs(d.backup.dir).then(
    (s) => ({ path: d.backup.dir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }),
    (err: NodeJS.ErrnoException) => ({ path: d.backup.dir, error: err.code }),
  );
  const info = {
    day2: day2Version,
    node: process.version,
    os: { type: os.type(), release: os.release(), platform: os.platform(), arch: os.arch() },
    cpus: os.cpus().length,
    loadAverage: os.loadavg(),
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    uptimeSeconds: Math.round(os.uptime()),
    backupDisk: disk,
  };
  return {
    result: { name: 'system', ok: true, detail: `${info.os.type} ${info.os.release}, node ${info.node}, day2 ${day2Version}` },
    files: [{ path: 'system.json', text: json(info) }],
  };
}

export const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const ensureNewline = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
const firstLine = (text: string) => bodySnippet(text.split('\n').find((l) => l.trim()) ?? '(empty)', 120);
