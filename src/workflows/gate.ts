// Every pause is a gate (invariant 6): a name, a question, a timeout with a default
// outcome. Decisions arrive as the `decide` update (the CLI, the approver), whose validator
// refuses at once when the workflow is not waiting at that gate, or as the approve/reject
// signals the Temporal Web UI can send.
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { approveSignal, decideUpdate, rejectSignal } from '../domain/messages';
import type { GateDecision } from '../domain/types';
import { approveCommand } from '../domain/workflow-ids';
import type { ProgressTracker } from './progress';

export interface GateSpec {
  name: string;
  question: string;
  timeoutSeconds: number;
  defaultOutcome: 'approve' | 'reject';
}

/** One per workflow run: registers the handlers and holds which gate is open. */
export class Gates {
  private waitingAt: string | undefined;
  private decision: GateDecision | undefined;

  constructor(private readonly progress: ProgressTracker) {
    setHandler(approveSignal, (d) => this.accept({ ...d, approve: true }));
    setHandler(rejectSignal, (d) => this.accept({ ...d, approve: false }));
    setHandler(
      decideUpdate,
      (d) => {
        this.accept(d);
        return { gate: d.gate, outcome: d.approve ? 'approved' : 'rejected' };
      },
      { validator: (d) => this.validate(d) },
    );
  }

  /** Waits for a decision or the timeout; the step records who decided and why. */
  async wait(step: string, spec: GateSpec): Promise<GateDecision> {
    const since = new Date();
    this.waitingAt = spec.name;
    this.decision = undefined;
    this.progress.mark(step, 'waiting', spec.question);
    this.progress.setGate({
      name: spec.name,
      question: spec.question,
      since: since.toISOString(),
      timeoutAt: new Date(since.getTime() + spec.timeoutSeconds * 1000).toISOString(),
      defaultOutcome: spec.defaultOutcome,
      approveCommand: approveCommand(workflowInfo().workflowId, spec.name),
    });
    let decided: boolean;
    try {
      decided = await condition(() => this.decision !== undefined, spec.timeoutSeconds * 1000);
    } catch (err) {
      // Cancelled while waiting (`day2 cancel`): the gate closes undecided, visibly, so
      // neither the Web UI nor the approver sees a cancelled workflow as still waiting.
      this.waitingAt = undefined;
      this.progress.setGate(undefined);
      this.progress.mark(step, 'failed', 'cancelled while waiting for a decision');
      throw err;
    }
    const result: GateDecision =
      decided && this.decision
        ? this.decision
        : {
            gate: spec.name,
            approve: spec.defaultOutcome === 'approve',
            by: 'timeout',
            reason: `no decision within ${spec.timeoutSeconds} s; default is to ${spec.defaultOutcome}`,
          };
    this.waitingAt = undefined;
    this.progress.setGate(undefined);
    const verdict = result.approve ? 'approved' : 'rejected';
    this.progress.mark(step, result.approve ? 'done' : 'failed', `${verdict} by ${result.by}: ${result.reason}`);
    return result;
  }

  private validate(d: GateDecision): void {
    if (!this.waitingAt) throw new Error(`not waiting at any gate (asked to decide '${d.gate}')`);
    if (d.gate !== this.waitingAt) throw new Error(`not waiting at gate '${d.gate}': waiting at '${this.waitingAt}'`);
    if (this.decision) throw new Error(`gate '${d.gate}' was already decided by ${this.decision.by}`);
  }

  private accept(d: GateDecision): void {
    // Signals can't be refused: one for a gate we are not waiting at (a late or duplicate
    // approval) is ignored, so it can never approve the next gate.
    if (this.waitingAt && d.gate === this.waitingAt && !this.decision) this.decision = d;
  }
}
