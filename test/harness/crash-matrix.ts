// The crash matrix: for an operation, run it once uncrashed and record the end state, then
// once per kill point — at every step boundary, inside every long activity (before its
// work, and after its work but before its result is reported), and across a restart of
// the Temporal server — and require the same end state every time.
//
// How a kill happens: two worker processes poll the deployment's task queue. At the kill
// point the worker running the step's activity (found by its identity, `pid@host`) gets
// SIGKILL; the other one carries on, and a replacement is started in the background for
// the next case. Inside an activity the point is made exact by the test-only pause hook
// (DAY2_TEST_PAUSE=@<control file>, src/activities/interceptors/test-pause.ts): the worker sleeps there,
// logging 'test pause', until it is killed.
//
// Two shortcuts keep a case to seconds, each doing at once what Temporal does by itself a
// little later: the dead worker's activity attempt is failed through the API (instead of
// waiting out the 10 s heartbeat timeout), and the workflow's sticky queue is reset
// (instead of waiting out the sticky schedule-to-start timeout). DAY2_CRASH_NATURAL=1
// turns both off, so every recovery happens by Temporal's own timeouts.
//
// Gates are answered by the harness (CrashOperation.approve) from the moment a case starts,
// so kill points beyond a gate are reached too.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import YAML from 'yaml';
import { fingerprint } from '../../src/activities/shared/secret-fingerprint';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { decideUpdate, progressQuery } from '../../src/domain/messages';
import { DEPLOYMENT, OPERATION } from '../../src/domain/search-attributes';
import type { Operation, Progress } from '../../src/domain/types';
import type { E2E } from './e2e';
import { exportHistories } from './secret-scan';
import { startTemporal, type TestTemporal } from './temporal';
import { spawnWorker, type WorkerProcess } from './worker-process';

/** One operation of the matrix (the operations themselves: test/harness/crash-operations.ts). */
export interface CrashOperation {
  /** Row label, and the Day2Operation search attribute. */
  name: Operation;
  workflowType: string;
  input(e2e: E2E): unknown;
  /** Brings the deployment to the operation's starting state; runs before every case. */
  prepare(e2e: E2E): Promise<void>;
  /** The answer at a gate (default: approve). */
  approve?(gate: string): boolean;
  /** Leaves out kill points that do not apply (e.g. a step that only runs on failure). */
  skip?(point: KillPoint): boolean;
  /** Kill points beyond the discovered ones: inside quick activities whose retry is the
   * risky part (a rename done, an env file written, the result not yet reported). */
  extraPoints?: KillPoint[];
  /** The activity the Temporal server restart happens in (default: the first long one). */
  restartDuring?: string;
  /** The per-table checksums, for an operation whose end state holds values that differ on
   * every run (timestamps written by now(), fresh random secrets). Must return every table;
   * only the columns the operation documents may be left out. Default: tableChecksums. */
  tables?(e2e: E2E): Promise<Record<string, string>>;
  /** The env file as compared. Default: secret-named values replaced by their fingerprint
   * (strict: equal fingerprints mean equal values, and failure details print no secret). */
  envFile?(text: string, e2e: E2E): string;
  /** More end state, compared like the rest (e.g. migration_log rows, secret checks). */
  extraState?(e2e: E2E): Promise<Record<string, unknown>>;
  /** What every end state must satisfy, the uncrashed one included: equal to the reference
   * proves nothing if the reference itself is wrong. Returns the problems found. */
  check?(state: EndState): string[];
}

export type KillPoint =
  | { kind: 'uncrashed' }
  | { kind: 'step'; step: string }
  | { kind: 'activity'; activity: string; at: 'start' | 'end' }
  | { kind: 'server-restart'; activity: string };

export interface CaseResult {
  operation: string;
  point: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export interface EndState {
  tables: Record<string, string>;
  envFile: string;
  versionFile: string;
  /** Every backup, oldest first: its name (stamps normalised) and its manifest without
   * time/run/size/checksum fields. A list: two backups' names normalise alike. */
  backups: Array<[string, unknown]>;
  leftovers: string[];
  databases: string[];
  service: { version: unknown; ready: number };
  /** Files in the backup directory that are not backups (.pre-upgrade-version, keyring.json). */
  backupDirFiles: Record<string, string>;
  /** The operation's own end state (CrashOperation.extraState). */
  extra: Record<string, unknown>;
}

const NATURAL = Boolean(process.env.DAY2_CRASH_NATURAL);
const DEBUG = Boolean(process.env.DAY2_CRASH_DEBUG);
const t0 = Date.now();
const debug = (line: string) => DEBUG && console.error(`[crash ${((Date.now() - t0) / 1000).toFixed(1)}] ${line}`);
const CASE_TIMEOUT_MS = 240_000;
const LONG_ACTIVITY_S = 600;

export function describePoint(p: KillPoint): string {
  switch (p.kind) {
    case 'uncrashed':
      return 'uncrashed (reference)';
    case 'step':
      return `worker killed at step '${p.step}'`;
    case 'activity':
      return p.at === 'start'
        ? `worker killed inside ${p.activity}, before its work`
        : `worker killed inside ${p.activity}, work done, result unreported`;
    case 'server-restart':
      return `Temporal server restarted during ${p.activity}`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamps = (s: string) => s.replace(/\d{4}-\d{2}-\d{2}-\d{6}/g, '<stamp>').replace(/_\d{14}/g, '_<stamp>');

const SECRET_NAME = /SECRET|KEY|PASSWORD|TOKEN|CREDENTIAL/i;

/** `NAME=value` lines of secret-named variables get `NAME=<fp:…>`: as strict as the value
 * (a fingerprint differs when the value does) without printing secrets in failure details. */
export function maskEnvSecrets(text: string): string {
  return text.replace(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm, (line, name: string, value: string) =>
    // `<…>`: already normalised by the operation (CrashOperation.envFile).
    SECRET_NAME.test(name) && value && !/^<.*>$/.test(value) ? `${name}=<fp:${fingerprint(value)}>` : line,
  );
}

const isBackupFile = (f: string) => f.endsWith('.dump') || f.endsWith('.manifest.json') || f.includes('.partial');

/** The end state the matrix compares: data, files, databases and the service. */
export async function endState(e2e: E2E, op?: CrashOperation): Promise<EndState> {
  const d = e2e.deployment;
  const files = readdirSync(d.backupDir).sort();
  const backupDirFiles: Record<string, string> = {};
  for (const f of files.filter((x) => !isBackupFile(x))) {
    const full = path.join(d.backupDir, f);
    backupDirFiles[stamps(f)] = statSync(full).isFile() ? readFileSync(full, 'utf8') : '<not a file>';
  }
  const backups: Array<[string, unknown]> = [];
  for (const f of files.filter((x) => x.endsWith('.manifest.json'))) {
    const { createdAt, workflowId, runId, sizeBytes, sha256, file, ...stable } = JSON.parse(
      readFileSync(path.join(d.backupDir, f), 'utf8'),
    );
    backups.push([stamps(file), stable]);
  }
  const conformance = await fetch(`${d.baseUrl}/conformance`)
    .then((r) => r.json() as Promise<Record<string, unknown>>)
    .catch((): Record<string, unknown> => ({}));
  const ready = await fetch(`${d.baseUrl}/health/ready`)
    .then((r) => (r.body?.cancel(), r.status))
    .catch(() => 0);
  const envText = readFileSync(d.envFile, 'utf8');
  return {
    tables: op?.tables ? await op.tables(e2e) : await tableChecksums(d.databaseUrl),
    envFile: op?.envFile ? op.envFile(envText, e2e) : maskEnvSecrets(envText),
    versionFile: readFileSync(d.versionFile, 'utf8'),
    backups,
    leftovers: files.filter((f) => f.includes('.partial') || (f.endsWith('.dump') && !files.includes(`${f}.manifest.json`))),
    databases: (await databasesOf(e2e)).map(stamps),
    service: { version: conformance.version, ready },
    backupDirFiles,
    extra: (await op?.extraState?.(e2e)) ?? {},
  };
}

async function databasesOf(e2e: E2E): Promise<string[]> {
  const { withClient } = await import('../../src/activities/shared/pg-connection');
  const live = new URL(e2e.deployment.databaseUrl).pathname.slice(1);
  return withClient(e2e.pg.adminUrl, async (c) =>
    (await c.query<{ datname: string }>(`select datname from pg_database where datname like $1 order by 1`, [`${live}%`])).rows.map(
      (r) => r.datname,
    ),
  );
}

/** Two workers on the deployment's task queue; killed ones are replaced in the background. */
class WorkerPool {
  private workers: WorkerProcess[] = [];
  private spawning: Promise<void> = Promise.resolve();

  constructor(
    private readonly spawn: () => Promise<WorkerProcess>,
    private readonly size = 2,
  ) {}

  async ready(): Promise<void> {
    await this.spawning;
    while (this.workers.length < this.size) this.workers.push(await this.spawn());
  }

  all(): WorkerProcess[] {
    return [...this.workers];
  }

  /** SIGKILLs these workers now and starts replacements in the background. */
  async kill(victims: WorkerProcess[]): Promise<void> {
    this.workers = this.workers.filter((w) => !victims.includes(w));
    await Promise.all(victims.map((w) => w.kill()));
    this.spawning = this.spawning.then(async () => {
      while (this.workers.length < this.size) this.workers.push(await this.spawn());
    });
    // With no survivor someone must run the rest: wait for the first replacement.
    if (!this.workers.length) while (!this.workers.length) await sleep(50);
  }

  async stop(): Promise<void> {
    await this.spawning.catch(() => {});
    await Promise.all(this.workers.map((w) => w.stop().catch(() => {})));
    this.workers = [];
  }
}

export class CrashMatrix {
  readonly results: CaseResult[] = [];
  private readonly controlFile: string;
  private readonly logDir: string;
  private readonly pool: WorkerPool;
  private privateServer?: { temporal: TestTemporal; configFile: string; dbFilename: string };

  constructor(private readonly e2e: E2E) {
    this.controlFile = path.join(e2e.dir, 'test-pause');
    this.logDir = process.env.DAY2_TEST_LOG_DIR
      ? path.join(process.env.DAY2_TEST_LOG_DIR, e2e.deployment.name)
      : path.join(e2e.dir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
    this.pool = new WorkerPool(() => this.spawnWorker(e2e.deployment.configFile));
  }

  private spawnWorker(configFile: string): Promise<WorkerProcess> {
    const env: Record<string, string> = { DAY2_TEST_PAUSE: `@${this.controlFile}` };
    if (process.env.DAY2_WORKFLOW_BUNDLE) env.DAY2_WORKFLOW_BUNDLE = process.env.DAY2_WORKFLOW_BUNDLE;
    return spawnWorker(configFile, { logDir: this.logDir, env });
  }

  /** Runs every case of `op` — or, with `only`, just those kill points (the smoke subset) —
   * after the uncrashed reference; returns (and keeps) one result per kill point. */
  async run(op: CrashOperation, only?: KillPoint[]): Promise<CaseResult[]> {
    await this.pool.ready();
    const reference = await this.runCase(op, { kind: 'uncrashed' }, this.e2e.temporal.client);
    const { state: expected, handle } = reference;
    debug(`${op.name}: reference end state ${JSON.stringify(expected)}`);
    const wrong = op.check?.(expected) ?? [];
    const points =
      only ??
      [...(await killPointsOf(this.e2e.temporal.client, handle, op.restartDuring)), ...(op.extraPoints ?? [])].filter((p) => !op.skip?.(p));
    if (only) {
      // A renamed step would otherwise cost a two-minute wait and a vaguer failure.
      const ran = new Set((await handle.query(progressQuery)).steps.filter((s) => s.status === 'done').map((s) => s.name));
      const unknown = only.flatMap((p) => (p.kind === 'step' && !ran.has(p.step) ? [p.step] : []));
      if (unknown.length)
        wrong.push(`kill points at steps the uncrashed run did not go through: ${unknown.join(', ')} (ran: ${[...ran].join(', ')})`);
    }
    const results: CaseResult[] = [
      {
        operation: op.name,
        point: describePoint({ kind: 'uncrashed' }),
        ok: !wrong.length,
        ms: reference.ms,
        detail: wrong.join('; ') || undefined,
      },
    ];
    this.results.push(results[0]!);
    for (const point of points) {
      const started = Date.now();
      let result: CaseResult;
      try {
        const { state } =
          point.kind === 'server-restart'
            ? await this.runAcrossServerRestart(op, point.activity)
            : await this.runCase(op, point, this.e2e.temporal.client);
        const diff = [...differences(expected, state), ...(op.check?.(state) ?? [])];
        result = {
          operation: op.name,
          point: describePoint(point),
          ok: !diff.length,
          ms: Date.now() - started,
          detail: diff.join('; ') || undefined,
        };
      } catch (err) {
        result = { operation: op.name, point: describePoint(point), ok: false, ms: Date.now() - started, detail: (err as Error).message };
        // Leave nothing running for the next case: the workflow, and a worker still paused.
        await this.e2e.temporal.client.workflow
          .getHandle(this.e2e.workflowId)
          .terminate('crash matrix case failed')
          .catch(() => {});
        await this.pool.kill(this.pool.all());
      }
      writeFileSync(this.controlFile, '');
      this.results.push(result);
      results.push(result);
    }
    return results;
  }

  private async runCase(
    op: CrashOperation,
    point: KillPoint,
    client: Client,
  ): Promise<{ state: EndState; handle: WorkflowHandle; ms: number }> {
    debug(`${op.name}: ${describePoint(point)}: waiting for workers`);
    await this.pool.ready();
    debug(`prepare`);
    await op.prepare(this.e2e);
    debug(`start`);
    const started = Date.now();
    if (point.kind === 'activity') writeFileSync(this.controlFile, `${point.activity}@${point.at} 600\n`);
    const handle = await startWorkflow(client, this.e2e, op);
    // From the start, not only while finishing: a kill point may lie beyond a gate.
    const gates = answerGates(handle, op);
    try {
      if (point.kind === 'step') {
        // A quick step may run and finish between two looks: then the kill lands just after it.
        await waitForProgress(
          handle,
          (p) => p.steps.some((s) => s.name === point.step && s.status !== 'pending'),
          `step '${point.step}' running`,
        );
        await this.killHolder(handle, client);
      } else if (point.kind === 'activity') {
        const paused = await this.waitForPause(point.activity, point.at);
        await this.pool.kill([paused]);
        writeFileSync(this.controlFile, '');
        await recover(client, handle, [paused]);
      }
      debug(`finish`);
      await finish(handle);
    } finally {
      await gates.stop();
    }
    debug(`finished; end state`);
    return { state: await endState(this.e2e, op), handle, ms: Date.now() - started };
  }

  /** Kills the worker that holds the step's activity (all of them if none holds one). */
  private async killHolder(handle: WorkflowHandle, client: Client): Promise<void> {
    const deadline = Date.now() + 2000;
    let holders: WorkerProcess[] = [];
    while (Date.now() < deadline && !holders.length) {
      const identities = await startedActivityIdentities(client, handle);
      holders = this.pool.all().filter((w) => identities.has(`${w.pid}@`) || [...identities].some((id) => id.startsWith(`${w.pid}@`)));
      if (!holders.length) await sleep(25);
    }
    const victims = holders.length ? holders : this.pool.all();
    debug(
      `kill ${victims.map((w) => w.pid).join(',')} of ${this.pool
        .all()
        .map((w) => w.pid)
        .join(',')} (holders: ${holders.length})`,
    );
    await this.pool.kill(victims);
    await recover(client, handle, victims);
  }

  private async waitForPause(activity: string, at: string): Promise<WorkerProcess> {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      for (const w of this.pool.all()) {
        const log = readFileSync(w.logFile, 'utf8');
        if (
          log
            .split('\n')
            .some((l) => l.includes('"msg":"test pause"') && l.includes(`"activity":"${activity}"`) && l.includes(`"at":"${at}"`))
        )
          return w;
      }
      await sleep(50);
    }
    throw new Error(`no worker paused in ${activity}@${at}`);
  }

  /** The operation on a private dev server (SQLite) that is stopped and started again on the
   * same port while the worker sleeps inside `activity`. */
  private async runAcrossServerRestart(op: CrashOperation, activity: string): Promise<{ state: EndState }> {
    const server = await this.ensurePrivateServer();
    writeFileSync(this.controlFile, `${activity}@start 60\n`);
    await op.prepare(this.e2e);
    const worker = await this.spawnWorker(server.configFile);
    const connection = await Connection.connect({ address: server.temporal.address });
    const client = new Client({ connection, namespace: server.temporal.namespace });
    let gates: { stop(): Promise<void> } | undefined;
    try {
      const handle = await startWorkflow(client, this.e2e, op);
      gates = answerGates(handle, op);
      const deadline = Date.now() + 120_000;
      while (!readFileSync(worker.logFile, 'utf8').includes('"msg":"test pause"')) {
        if (Date.now() > deadline) throw new Error(`the worker never paused in ${activity}`);
        await sleep(50);
      }
      const { port, dbFilename } = { port: server.temporal.port, dbFilename: server.dbFilename };
      const httpPort = Number(new URL(server.temporal.httpAddress!).port);
      await server.temporal.stop();
      server.temporal = await startTemporal({ dbFilename, port, httpPort });
      writeFileSync(this.controlFile, ''); // the activity goes on, and reports to the new server
      await finish(handle);
      await gates.stop();
      return { state: await endState(this.e2e, op) };
    } catch (err) {
      await gates?.stop();
      // Leave nothing running on the private server for the next operation's restart case.
      await client.workflow
        .getHandle(this.e2e.workflowId)
        .terminate('crash matrix case failed')
        .catch(() => {});
      throw err;
    } finally {
      await worker.stop().catch(() => {});
      await connection.close().catch(() => {});
    }
  }

  private async ensurePrivateServer() {
    if (this.privateServer) return this.privateServer;
    const dbFilename = path.join(this.e2e.dir, 'temporal-restart.sqlite');
    const temporal = await startTemporal({ dbFilename });
    const config = YAML.parse(readFileSync(this.e2e.deployment.configFile, 'utf8'));
    config.temporal.address = temporal.address;
    config.temporal.httpAddress = temporal.httpAddress;
    const configFile = path.join(this.e2e.dir, 'day2-private-temporal.yaml');
    writeFileSync(configFile, YAML.stringify(config));
    this.privateServer = { temporal, configFile, dbFilename };
    return this.privateServer;
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    if (this.privateServer) {
      await exportHistories(this.privateServer.temporal.client, `crash-matrix-${this.e2e.deployment.name}`).catch(() => 0);
      await this.privateServer.temporal.stop().catch(() => {});
      rmSync(this.privateServer.dbFilename, { force: true });
    }
  }
}

async function startWorkflow(client: Client, e2e: E2E, op: CrashOperation): Promise<WorkflowHandle> {
  return client.workflow.start(op.workflowType, {
    workflowId: e2e.workflowId,
    taskQueue: e2e.config.temporal.taskQueue,
    args: [op.input(e2e)],
    typedSearchAttributes: [
      { key: DEPLOYMENT, value: e2e.deployment.name },
      { key: OPERATION, value: op.name },
    ],
    staticSummary: `crash matrix: ${op.name} on ${e2e.deployment.name}`,
  });
}

async function waitForProgress(handle: WorkflowHandle, ok: (p: Progress) => boolean, what: string): Promise<Progress> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && ok(p)) return p;
    await sleep(25);
  }
  throw new Error(`never reached ${what}`);
}

interface PendingActivity {
  activityId?: string | null;
  state?: number | string | null;
  lastWorkerIdentity?: string | null;
}

/** The workflow and its running children (an upgrade takes its backup as a child). */
async function executionTree(
  client: Client,
  handle: WorkflowHandle,
): Promise<Array<{ handle: WorkflowHandle; runId: string; pending: PendingActivity[] }>> {
  const out: Array<{ handle: WorkflowHandle; runId: string; pending: PendingActivity[] }> = [];
  const visit = async (h: WorkflowHandle) => {
    const desc = await h.describe().catch(() => undefined);
    if (!desc) return;
    out.push({ handle: h, runId: desc.runId, pending: (desc.raw.pendingActivities ?? []) as PendingActivity[] });
    for (const child of desc.raw.pendingChildren ?? [])
      if (child.workflowId) await visit(client.workflow.getHandle(child.workflowId, child.runId ?? undefined));
  };
  await visit(handle);
  return out;
}

const isStarted = (a: PendingActivity) => a.state === 2 || a.state === 'PENDING_ACTIVITY_STATE_STARTED';

async function startedActivityIdentities(client: Client, handle: WorkflowHandle): Promise<Set<string>> {
  const tree = await executionTree(client, handle);
  return new Set(
    tree
      .flatMap((t) => t.pending)
      .filter((a) => isStarted(a) && a.lastWorkerIdentity)
      .map((a) => a.lastWorkerIdentity!),
  );
}

/** What Temporal would do by itself a little later (see the header): fail the dead
 * workers' activity attempts and move the workflows off their sticky queues. */
async function recover(client: Client, handle: WorkflowHandle, dead: WorkerProcess[]): Promise<void> {
  if (NATURAL) return;
  for (const { handle: h, runId, pending } of await executionTree(client, handle)) {
    for (const a of pending) {
      if (!isStarted(a) || !a.activityId || !dead.some((w) => a.lastWorkerIdentity?.startsWith(`${w.pid}@`))) continue;
      await client.activity
        .fail(
          { workflowId: h.workflowId, runId, activityId: a.activityId },
          ApplicationFailure.retryable('worker killed by the crash matrix', 'WorkerKilled'),
        )
        .catch(() => {});
    }
    await client.workflowService
      .resetStickyTaskQueue({ namespace: client.options.namespace, execution: { workflowId: h.workflowId, runId } })
      .catch(() => {});
  }
}

/** Answers the workflow's gates as they come up (op.approve; default approve) until stopped. */
function answerGates(handle: WorkflowHandle, op: CrashOperation): { stop(): Promise<void> } {
  let done = false;
  const deciding = (async () => {
    while (!done) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p?.gate && !done) {
        const approve = op.approve?.(p.gate.name) ?? true;
        await handle
          .executeUpdate(decideUpdate, { args: [{ gate: p.gate.name, approve, by: 'crash-matrix', reason: 'crash matrix' }] })
          .catch(() => {});
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      done = true;
      await deciding;
    },
  };
}

/** Waits for the result; fails after CASE_TIMEOUT_MS. */
async function finish(handle: WorkflowHandle): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${CASE_TIMEOUT_MS / 1000} s`)), CASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([resultWithRetry(handle), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** result(), retried across a server restart (the connection comes back by itself). */
async function resultWithRetry(handle: WorkflowHandle): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await handle.result();
    } catch (err) {
      const transient = /UNAVAILABLE|ECONNREFUSED|Connection dropped|No connection established/i.test(String((err as Error).message));
      if (!transient || attempt > 60) throw err;
      await sleep(500);
    }
  }
}

/** Every step the uncrashed run went through, every long activity (before and after its
 * work), and one Temporal restart inside `restartDuring` (default: the first long activity). */
async function killPointsOf(client: Client, handle: WorkflowHandle, restartDuring?: string): Promise<KillPoint[]> {
  const progress = await handle.query(progressQuery);
  const steps: KillPoint[] = progress.steps.filter((s) => s.status === 'done').map((s) => ({ kind: 'step', step: s.name }));
  const long: string[] = [];
  const scan = async (h: WorkflowHandle): Promise<void> => {
    for (const event of (await h.fetchHistory()).events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      const seconds = Number(scheduled?.startToCloseTimeout?.seconds ?? 0);
      const name = scheduled?.activityType?.name;
      if (name && seconds > LONG_ACTIVITY_S && !long.includes(name)) long.push(name);
      // Children (the upgrade's backup) are part of the operation: their activities too.
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) await scan(client.workflow.getHandle(child.workflowId, child.runId ?? undefined));
    }
  };
  await scan(handle);
  const inside: KillPoint[] = long.flatMap((activity) => [
    { kind: 'activity', activity, at: 'start' } as const,
    { kind: 'activity', activity, at: 'end' } as const,
  ]);
  const restartIn = restartDuring ?? long[0];
  const restart: KillPoint[] = restartIn ? [{ kind: 'server-restart', activity: restartIn }] : [];
  return [...steps, ...inside, ...restart];
}

function differences(expected: EndState, actual: EndState): string[] {
  const out: string[] = [];
  for (const key of Object.keys(expected) as Array<keyof EndState>) {
    const a = JSON.stringify(expected[key]);
    const b = JSON.stringify(actual[key]);
    if (a !== b) out.push(`${key} differs: expected ${a.slice(0, 300)}, got ${b.slice(0, 300)}`);
  }
  return out;
}

/** The matrix as printed by the test. */
export function renderMatrix(results: CaseResult[]): string {
  const width = Math.max(...results.map((r) => r.point.length), 10);
  const lines = ['crash matrix (operation × kill point → result):'];
  let last = '';
  for (const r of results) {
    if (r.operation !== last) lines.push(`  ${r.operation}`);
    last = r.operation;
    lines.push(
      `    ${r.point.padEnd(width)}  ${r.ok ? 'pass' : 'FAIL'}  ${(r.ms / 1000).toFixed(1).padStart(5)} s${r.detail ? `  ${r.detail}` : ''}`,
    );
  }
  const passed = results.filter((r) => r.ok).length;
  lines.push(
    `  ${results.length} cases (${new Set(results.map((r) => r.operation)).size} operations): ${passed} pass, ${results.length - passed} fail`,
  );
  return lines.join('\n');
}
