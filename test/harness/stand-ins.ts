// The workflows layer (test/workflows/): the real workflow code on a real Temporal server
// (the shared dev server under scripts/test.ts), with stand-in activities — plain
// functions with the names and result shapes of the real ones (src/activities) that record
// every call. A test tells the stand-ins what to answer, where to fail, and which call to
// hold (heartbeating) so a cancellation lands while exactly that activity runs; it then
// asserts on the calls and on the workflow's result and progress query.
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { decideUpdate, progressQuery } from '../../src/domain/messages';
import type { BackupManifest, CheckResult, Progress } from '../../src/domain/types';
import { startTemporal, testWorker, type TestTemporal } from './temporal';

export type ActivityName = keyof Activities;

export interface Call {
  name: ActivityName;
  input: unknown;
  /** The stand-in saw its cancellation (only a held call can). */
  cancelled?: boolean;
}

type Answer = unknown | ((input: never, nth: number) => unknown);

export const manifest = (file = 'wf-2026-01-01-000000.dump', extra: Partial<BackupManifest> = {}): BackupManifest => ({
  file,
  deployment: 'wf',
  database: 'live',
  serverVersion: '16',
  appVersion: '1.0.0',
  sizeBytes: 10,
  sha256: '0'.repeat(64),
  createdAt: '2026-01-01T00:00:00.000Z',
  workflowId: 'w',
  runId: 'r',
  tocEntries: 3,
  ...extra,
});

export const passed = (name: string): CheckResult => ({ name, ok: true, detail: 'ok' });
export const failedCheck = (name: string, detail = 'stand-in failure'): CheckResult => ({ name, ok: false, detail });

/** What each activity answers unless a test says otherwise: a sound deployment on 1.0.0. */
const DEFAULTS: { [K in ActivityName]?: Answer } = {
  detectRunningVersion: '1.0.0',
  readUpgradePolicy: { autoRollback: false, readyTimeoutSeconds: 5, deprecatedVars: [] },
  runDeploymentChecks: [],
  pullRelease: { usedPresent: false },
  createBackup: (input: { fileName: string; createdAt: string }) => ({
    manifest: manifest(input.fileName, { createdAt: input.createdAt }),
    reused: false,
  }),
  applyRetention: { deleted: [] },
  offsiteConfigured: false,
  notifyWebhook: undefined,
  stopServices: undefined,
  startServices: undefined,
  runMigrations: undefined,
  writeReleaseVersion: undefined,
  commentOutDeprecatedVars: { commentedOut: [] },
  waitForReady: { readyAfterMs: 10 },
  readServiceVersion: null,
  verifyBackup: (input: { file: string }) => manifest(input.file),
  listBackups: [manifest()],
  readPreUpgradeVersion: null,
  stageRestore: undefined,
  dropDatabaseIfExists: { dropped: true },
  swapInRestoredDatabase: undefined,
  restoreInPlace: undefined,
  countKeptCopies: { count: 1, bytes: 10, copies: [] },
  beginApiKeyRotation: { previousFp: 'fp-old', currentFp: 'fp-new', resumed: false },
  rehashApiKeys: undefined,
  restorePreviousApiKeySecret: { changed: true },
  removePreviousApiKeySecret: undefined,
  rotateSigningKey: { newKeyId: 'key-new', oldKeyId: 'key-old', keyring: 'backups/signing-keyring.json' },
  prepareArchiving: {
    dataDir: '/var/lib/postgresql/16/main',
    port: 5432,
    changed: ['archive_mode'],
    needsRestart: ['archive_mode'],
    configChanged: true,
  },
  drillBackup: (input: { file: string }) => ({
    file: input.file,
    ok: true,
    checks: [passed('tables')],
    tables: { 'public.t': 1 },
    restoreSeconds: 1,
  }),
};

/** Calls every stand-in records but no test needs in its call list. */
const NOISE = new Set<string>(['notifyWebhook']);

export class StandIns {
  readonly calls: Call[] = [];
  private readonly answers = new Map<string, Answer>();
  private readonly failures = new Map<string, { message: string; type: string; nth?: number }>();
  private hold: { at: number; ms: number } | undefined;
  private heldStarted: (() => void) | undefined;
  /** Resolves when the held call has started. */
  readonly held: Promise<void>;

  constructor() {
    this.held = new Promise((resolve) => (this.heldStarted = resolve));
  }

  answer<K extends ActivityName>(name: K, value: Answer): this {
    this.answers.set(name, value);
    return this;
  }

  /** `name` fails for good (a non-retryable ApplicationFailure of `type`): at its `nth`
   * call (1-based), or at every call. */
  fail(name: ActivityName, message = `${name} failed (stand-in)`, opts: { type?: string; nth?: number } = {}): this {
    this.failures.set(name, { message, type: opts.type ?? 'StandInFailure', nth: opts.nth });
    return this;
  }

  /** Holds the `at`-th recorded call (0-based, notifications not counted), heartbeating,
   * until it is cancelled or `ms` pass: a call in an uninterruptible section is never
   * cancelled, so it ends after `ms` and the workflow goes on. */
  holdCall(at: number, ms = 1500): this {
    this.hold = { at, ms };
    return this;
  }

  /** The recorded call names, notifications left out. */
  names(): string[] {
    return this.calls.filter((c) => !NOISE.has(c.name)).map((c) => c.name);
  }

  /** Activity implementations for a worker: every name in DEFAULTS, answering from the
   * stand-ins `of(workflowId)` picks for the calling workflow. */
  static activities(of: (workflowId: string) => StandIns): Record<string, (input: unknown) => Promise<unknown>> {
    return Object.fromEntries(
      Object.keys(DEFAULTS).map((name) => [
        name,
        (input: unknown) => of(Context.current().info.workflowExecution?.workflowId ?? '').run(name as ActivityName, input),
      ]),
    );
  }

  private async run(name: ActivityName, input: unknown): Promise<unknown> {
    const call: Call = { name, input };
    this.calls.push(call);
    const nth = this.calls.filter((c) => c.name === name).length;
    const index = NOISE.has(name) ? -1 : this.names().length - 1;
    const failure = this.failures.get(name);
    if (failure && (failure.nth === undefined || failure.nth === nth)) throw ApplicationFailure.nonRetryable(failure.message, failure.type);
    if (this.hold && index === this.hold.at) {
      this.heldStarted?.();
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 100);
      try {
        await Promise.race([ctx.sleep(this.hold.ms), ctx.cancelled]);
      } catch (err) {
        call.cancelled = true;
        throw err;
      } finally {
        clearInterval(beat);
      }
    }
    const answer = this.answers.has(name) ? this.answers.get(name) : DEFAULTS[name];
    return typeof answer === 'function' ? (answer as (input: unknown, nth: number) => unknown)(input, nth) : answer;
  }
}

export interface WorkflowWorker {
  temporal: TestTemporal;
  taskQueue: string;
  /** The stand-ins the workflows started next use, unless start() is given its own. */
  use(standIns: StandIns): StandIns;
  /** Starts a workflow whose activities (its children's too) are answered by `standIns`
   * (default: the last use()d), so tests may run side by side. */
  start<T = unknown>(workflowType: string, input: unknown, standIns?: StandIns): Promise<WorkflowHandle & { result(): Promise<T> }>;
  stop(): Promise<void>;
}

/** One worker on its own task queue for a test file, running the real workflows with the
 * stand-ins given to `use()`. */
export async function startWorkflowWorker(name: string): Promise<WorkflowWorker> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const temporal = await startTemporal();
  const taskQueue = `day2-wf-${name}-${process.pid}`;
  let current = new StandIns();
  // By workflow id; a child's id starts with its parent's (src/domain/workflow-ids.ts).
  const byWorkflow = new Map<string, StandIns>();
  const of = (workflowId: string): StandIns => {
    const found = byWorkflow.get(workflowId);
    if (found) return found;
    const cut = workflowId.lastIndexOf('/');
    return cut < 0 ? current : of(workflowId.slice(0, cut));
  };
  const { worker, connection } = await testWorker(temporal, {
    taskQueue,
    activities: StandIns.activities(of),
    // Heartbeats reach the server at once, so a cancellation reaches a held call at once
    // (the default throttle would delay it by up to 0.8 × the heartbeat timeout).
    maxHeartbeatThrottleInterval: '50 ms',
    defaultHeartbeatThrottleInterval: '50 ms',
  });
  const running = worker.run();
  let n = 0;
  return {
    temporal,
    taskQueue,
    use(standIns) {
      current = standIns;
      return standIns;
    },
    start(workflowType, input, standIns) {
      const workflowId = `day2-wf-${name}-${process.pid}-${++n}`;
      byWorkflow.set(workflowId, standIns ?? current);
      return temporal.client.workflow.start(workflowType, { taskQueue, workflowId, args: [input] }) as never;
    },
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await temporal.stop();
    },
  };
}

export async function progressOf(handle: WorkflowHandle): Promise<Progress> {
  return handle.query(progressQuery);
}

/** Polls the progress query until `ok` holds (5 s at most). */
export async function waitForProgress(handle: WorkflowHandle, what: string, ok: (p: Progress) => boolean): Promise<Progress> {
  let last: Progress | undefined;
  for (let i = 0; i < 100; i++) {
    last = await progressOf(handle);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never saw: ${what}; progress: ${JSON.stringify(last)}`);
}

export const waitingAt = (handle: WorkflowHandle, gate: string) =>
  waitForProgress(handle, `waiting at ${gate}`, (p) => p.gate?.name === gate);

export async function decide(handle: WorkflowHandle, gate: string, approve: boolean): Promise<void> {
  await handle.executeUpdate(decideUpdate, { args: [{ gate, approve, by: 'test', reason: approve ? 'looks fine' : 'not now' }] });
}

/** The workflow's failure, from its result. */
export async function failureOf(handle: WorkflowHandle): Promise<Error> {
  try {
    await handle.result();
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    return err;
  }
  assert.fail('the workflow succeeded');
}

/** The innermost cause's message of a workflow failure. */
export function deepest(err: unknown): string {
  let e = err as Error | undefined;
  while (e && (e as { cause?: Error }).cause) e = (e as { cause?: Error }).cause;
  return e?.message ?? '';
}

/** The activity calls of the child workflows and steps several operations share: a backup
 * (the upgrade's pre-upgrade one), a restore (rollback's, upgrade's), a restart with checks. */
export const BACKUP_CALLS: readonly string[] = ['detectRunningVersion', 'createBackup', 'applyRetention', 'offsiteConfigured'];
export const RESTORE_CALLS: readonly string[] = [
  'verifyBackup',
  'stageRestore',
  'stopServices',
  'swapInRestoredDatabase',
  'startServices',
  'waitForReady',
  'runDeploymentChecks',
  'countKeptCopies',
];
export const RESTART_CALLS: readonly string[] = ['stopServices', 'startServices', 'waitForReady', 'runDeploymentChecks'];
