// Helpers shared by the rotation end-to-end tests: API keys made with the ledger's ctl, a
// canary verify check, waiting on a workflow's progress, and the leak scan (history, logs,
// CLI output) that must find no secret value.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import YAML from 'yaml';
import { ctlArgv, recordTestSecrets } from '../../examples/ledger-deployment';
import { readEnvFile } from '../../src/envfile';
import { progressQuery } from '../../src/domain/messages';
import type { Progress } from '../../src/domain/types';
import type { E2E } from './e2e';

const TSX = fileURLToPath(import.meta.resolve('tsx'));
const CANARY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ledger-canary.ts');
export const CANARY_KEY_FILE = 'canary.key';

/** `ctl create-key` against any env file (e.g. a copy holding only the old secret). */
export async function createKey(envFile: string, name: string): Promise<string> {
  const r = await execa(process.execPath, [...ctlArgv(), 'create-key', '--name', name, '--env-file', envFile], {
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`create-key failed: ${r.stderr}`);
  const key = r.stdout.trim();
  recordTestSecrets(key); // the suite's final secret scan looks for it too
  return key;
}

export async function whoami(baseUrl: string, key: string): Promise<number> {
  const res = await fetch(`${baseUrl}/whoami`, { headers: { authorization: `Bearer ${key}` } });
  await res.body?.cancel();
  return res.status;
}

/** Creates the canary key (kept 0600 beside the env file) and puts day2 `verify` checks that
 * use it first in day2.yaml, ahead of the deployment's own. Call before starting the worker. */
export async function addCanaryChecks(e2e: E2E, kinds: Array<'whoami' | 'append'>): Promise<string> {
  const key = await createKey(e2e.deployment.envFile, 'canary');
  writeFileSync(path.join(e2e.deployment.dir, CANARY_KEY_FILE), key, { mode: 0o600 });
  const config = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
  const d = config.deployments[e2e.deployment.name];
  const checks = kinds.map((kind) => ({
    kind: 'command',
    name: kind === 'whoami' ? 'API key created before the rotation authenticates' : 'a new entry is signed',
    command: `"${process.execPath}" --import "${TSX}" "${CANARY}" ${kind} ${e2e.deployment.baseUrl} ${CANARY_KEY_FILE}`,
  }));
  d.verify = [...checks, ...d.verify];
  writeFileSync(e2e.deployment.configFile, YAML.stringify(config));
  return key;
}

export async function envSecrets(envFile: string, vars = ['API_KEY_SECRET', 'API_KEY_SECRET_PREVIOUS', 'VAULT_SIGNING_KEY']) {
  const env = await readEnvFile(envFile);
  recordTestSecrets(...vars.map((v) => env.get(v)));
  return Object.fromEntries(vars.map((v) => [v, env.get(v)])) as Record<string, string | undefined>;
}

/** An env file in its own directory (ctl keeps run/ beside it) with `changes` applied. */
export function envCopy(e2e: E2E, name: string, changes: Record<string, string | undefined>): string {
  const dir = path.join(e2e.dir, name);
  mkdirSync(dir, { recursive: true });
  const lines = readFileSync(e2e.deployment.envFile, 'utf8')
    .split('\n')
    .filter((l) => !Object.keys(changes).some((k) => l.startsWith(`${k}=`)));
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) lines.push(`${k}=${v}`);
  const file = path.join(dir, '.env');
  writeFileSync(file, `${lines.filter((l) => l !== '').join('\n')}\n`, { mode: 0o600 });
  return file;
}

export async function waitForProgress(e2e: E2E, what: string, ok: (p: Progress) => boolean, timeoutMs = 120_000): Promise<Progress> {
  const handle = e2e.temporal.client.workflow.getHandle(e2e.workflowId);
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  while (Date.now() < deadline) {
    last = (await handle.query(progressQuery).catch(() => undefined)) ?? last;
    if (last && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never reached: ${what}; last progress: ${JSON.stringify(last?.steps)}`);
}

export const waitForGate = (e2e: E2E, gate: string) => waitForProgress(e2e, `gate ${gate}`, (p) => p.gate?.name === gate);
export const waitForStep = (e2e: E2E, step: string, status: string) =>
  waitForProgress(e2e, `${step} ${status}`, (p) => p.steps.some((s) => s.name === step && s.status === status));

/** The workflow's whole history as text, payload bytes decoded. Neither JSON.stringify
 * (protobuf messages turn bytes into base64 in toJSON) nor a Buffer's own JSON would show a
 * secret as written, so the leak scan walks the objects itself. */
export async function historyText(e2e: E2E): Promise<string> {
  return JSON.stringify(decodeBytes(await e2e.temporal.client.workflow.getHandle(e2e.workflowId).fetchHistory()));
}

function decodeBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(decodeBytes);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeBytes(v)]));
  return value;
}

/** Every place a secret must never reach: the workflow's whole history, every worker log,
 * the service's own logs, and what the CLI printed. Returns the places each value was found. */
export async function findLeaks(e2e: E2E, cliOutput: string[], values: string[]): Promise<string[]> {
  const history = await historyText(e2e);
  // Every worker of a test file logs into the same directory (see test/harness/e2e.ts).
  const logDirs = [path.dirname(e2e.worker!.logFile), path.join(e2e.deployment.dir, 'run')];
  const logs = logDirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => ({ where: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') })),
  );
  const places = [{ where: 'workflow history', text: history }, { where: 'CLI output', text: cliOutput.join('\n') }, ...logs];
  if (history.length < 1000 || logs.every((l) => l.text.length === 0))
    throw new Error('nothing to scan: the leak check would prove nothing');
  return values.flatMap((value, i) => places.filter((p) => p.text.includes(value)).map((p) => `value #${i} in ${p.where}`));
}
