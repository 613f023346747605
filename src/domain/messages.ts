// The messages a day2 workflow understands. Defined once, used by workflows and client.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { GateDecision, Progress } from './types';

export const progressQuery = defineQuery<Progress>('progress');

/** Signals: fire-and-forget approvals (recorded in history with who and why), the way to
 * decide from the Temporal Web UI ("Send a Signal", JSON input {"gate", "by", "reason"};
 * docs/cli.md). A signal for a gate the workflow is not waiting at is ignored. */
export const approveSignal = defineSignal<[Omit<GateDecision, 'approve'>]>('approve');
export const rejectSignal = defineSignal<[Omit<GateDecision, 'approve'>]>('reject');

/** Update: the same decision, but refused at once (by a validator) when the workflow is
 * not waiting at that gate, so a person learns immediately. */
export const decideUpdate = defineUpdate<DecideResult, [GateDecision]>('decide');

export interface DecideResult {
  gate: string;
  outcome: 'approved' | 'rejected';
}
