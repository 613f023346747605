// The automated approver: finds workflows waiting at a gate, runs that gate's checks from
// day2.yaml, and decides through the workflow's `decide` update with the check results as
// evidence, so the decision, who made it and why are in the workflow's history.
//
// It keeps no durable state of its own, on purpose: after a restart it looks again. It can
// never approve twice, because the update's validator refuses a gate that is no longer
// waiting (or was already decided) before anything reaches history; that refusal is
// reported as a no-op, not an error.
import os from 'node:os';
import { Client } from '@temporalio/client';
import { dataConverterOf } from '../codec/data-converter';
import type { Day2Config } from '../config';
import type { CheckResult } from '../domain/types';
import { sendDecision } from '../client/send-decision';
import { connectClient } from '../temporal-connection';
import { checkContextFor, evaluateGate, type Verdict } from './evaluate-gate';
import { findWaitingFleetGates, fleetVerdict } from './fleet-gate';
import { currentProgress, findWaitingGates, waitKey, type WaitingGate } from './find-waiting-gates';

export type ApproverEventKind = 'checking' | 'approved' | 'rejected' | 'left' | 'noop' | 'error';

export interface ApproverEvent {
  kind: ApproverEventKind;
  workflowId: string;
  deployment: string;
  gate: string;
  message: string;
  evidence?: CheckResult[];
}

export interface ApproverOptions {
  client: Client;
  config: Day2Config;
  /** Recorded as `by` in every decision. */
  identity?: string;
  onEvent?: (event: ApproverEvent) => void;
}

/** How long a decision may wait for a worker to accept it before this pass gives up. */
const DECIDE_DEADLINE_MS = 30_000;

/** Who the automated approver's decisions are recorded as, unless `--identity` names it. */
export const approverIdentity = () => `day2-approver@${os.hostname() || 'localhost'}`;

export class Approver {
  readonly identity: string;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** The last note per waiting gate, so a gate left to a person is reported once, not every pass. */
  private readonly notes = new Map<string, string>();

  constructor(private readonly opts: ApproverOptions) {
    this.identity = opts.identity?.trim() || approverIdentity();
  }

  /** One look: starts an evaluation for every waiting gate not already being evaluated. */
  async pass(): Promise<number> {
    const fleets = await findWaitingFleetGates(this.opts.client);
    const waiting: WaitingGate[] = [...(await findWaitingGates(this.opts.client, Object.keys(this.opts.config.deployments))), ...fleets];
    const keys = new Set(waiting.map(waitKey));
    for (const key of this.notes.keys()) if (!keys.has(key)) this.notes.delete(key);
    for (const w of waiting) {
      const key = waitKey(w);
      if (this.inFlight.has(key)) continue;
      const fleet = fleets.find((f) => f === w)?.fleet;
      const job = (fleet ? this.act(w, fleetVerdict(this.opts.config, fleet)) : this.handle(w))
        .catch((err: Error) => this.emit(w, 'error', `evaluation failed: ${err.message}`))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, job);
    }
    return waiting.length;
  }

  /** Waits for every evaluation started so far (stability runs included). */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight.values()]);
  }

  /** `day2 approver --once`: look, decide, return. */
  async runOnce(): Promise<void> {
    await this.pass();
    await this.settle();
  }

  /** Looks every `intervalMs` until `signal` aborts; then lets evaluations in flight finish. */
  async run(signal: AbortSignal, intervalMs: number): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pass();
      } catch (err) {
        // The server may be restarting: say so and look again next time.
        this.opts.onEvent?.({
          kind: 'error',
          workflowId: '',
          deployment: '',
          gate: '',
          message: `cannot list waiting gates: ${(err as Error).message}`,
        });
      }
      await abortableSleep(intervalMs, signal);
    }
    await this.settle();
  }

  private async handle(w: WaitingGate): Promise<void> {
    const deployment = this.opts.config.deployments[w.deployment]!;
    const policy = deployment.gates[w.gate.name];
    if (policy && policy.policy !== 'manual' && policy.checks.length && !this.notes.has(waitKey(w))) {
      this.emit(w, 'checking', `running ${policy.checks.length} check(s) × ${policy.stableRuns} (policy ${policy.policy})`);
    }
    const verdict = await evaluateGate(policy, await checkContextFor(deployment), {
      stillWaiting: () => this.stillWaiting(w),
    });
    await this.act(w, verdict);
  }

  private async act(w: WaitingGate, verdict: Verdict): Promise<void> {
    const key = waitKey(w);
    switch (verdict.action) {
      case 'leave':
        if (this.notes.get(key) !== verdict.reason) this.emit(w, 'left', verdict.reason, verdict.evidence);
        this.notes.set(key, verdict.reason);
        return;
      case 'gone':
        return this.emit(w, 'noop', verdict.reason);
      case 'approve':
      case 'reject':
        return this.decide(w, verdict.action === 'approve', verdict.reason, verdict.evidence);
    }
  }

  private async decide(w: WaitingGate, approve: boolean, reason: string, evidence: CheckResult[]): Promise<void> {
    const handle = this.opts.client.workflow.getHandle(w.workflowId, w.runId);
    const sent = await sendDecision(handle, { gate: w.gate.name, approve, by: this.identity, reason, evidence }, DECIDE_DEADLINE_MS);
    // Refused (decided by a person or by us before a restart, timed out…) or ended: either
    // way there is nothing left to decide.
    if ('refused' in sent) return this.emit(w, 'noop', `not ${approve ? 'approving' : 'rejecting'}: ${sent.refused}`);
    this.emit(w, approve ? 'approved' : 'rejected', reason, evidence);
  }

  private async stillWaiting(w: WaitingGate): Promise<boolean> {
    const progress = await currentProgress(this.opts.client, this.opts.client.workflow.getHandle(w.workflowId, w.runId));
    return progress?.gate?.name === w.gate.name && progress.gate.since === w.gate.since;
  }

  private emit(w: WaitingGate, kind: ApproverEventKind, message: string, evidence?: CheckResult[]): void {
    this.opts.onEvent?.({ kind, workflowId: w.workflowId, deployment: w.deployment, gate: w.gate.name, message, evidence });
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** A client whose calls carry the approver's identity (shown in the Web UI's event details). */
export async function connectApproverClient(config: Day2Config, identity = approverIdentity()): Promise<Client> {
  const connection = await connectClient(config);
  return new Client({ connection, namespace: config.temporal.namespace, identity, dataConverter: dataConverterOf(config) });
}

export interface RunningApprover {
  approver: Approver;
  /** Stops looking, lets evaluations in flight finish, closes the connection. */
  stop(): Promise<void>;
}

/** Runs the approver in this process (beside a worker, or in the demo) until stop(). */
export async function startApprover(
  config: Day2Config,
  opts: { intervalSeconds?: number; identity?: string; onEvent?: (event: ApproverEvent) => void } = {},
): Promise<RunningApprover> {
  const identity = opts.identity ?? approverIdentity();
  const client = await connectApproverClient(config, identity);
  const approver = new Approver({ client, config, identity, onEvent: opts.onEvent });
  const abort = new AbortController();
  const running = approver.run(abort.signal, (opts.intervalSeconds ?? 5) * 1000);
  return {
    approver,
    async stop() {
      abort.abort();
      await running;
      await client.connection.close();
    },
  };
}
