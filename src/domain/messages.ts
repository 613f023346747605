// The messages a day2 workflow understands. Defined once, used by workflows and client.
import { queryNamed, signalNamed, updateNamed } from './message-definitions';
import type { GateDecision, Progress } from './types';

export const progressQuery = queryNamed<Progress>('progress');

/** Signals: fire-and-forget approvals (recorded in history with who and why), the way to
 * decide from the Temporal Web UI ("Send a Signal", JSON input {"gate", "by", "reason"};
 * docs/cli.md). A signal for a gate the workflow is not waiting at is ignored. */
export const approveSignal = signalNamed<[Omit<GateDecision, 'approve'>]>('approve');
export const rejectSignal = signalNamed<[Omit<GateDecision, 'approve'>]>('reject');

/** Signal from a long-running activity to its own workflow: one line saying how far it is.
 * A workflow cannot read heartbeats; this puts the line in the running step (the progress
 * query) and in the Web UI's current details. Sent at a falling rate
 * (src/activities/shared/progress-report.ts), never for a short activity. */
export const activityProgressSignal = signalNamed<[ActivityProgress]>('activityProgress');

export interface ActivityProgress {
  activityType: string;
  text: string;
}

/** Update: the same decision, but refused at once (by a validator) when the workflow is
 * not waiting at that gate, so a person learns immediately. */
export const decideUpdate = updateNamed<DecideResult, [GateDecision]>('decide');

export interface DecideResult {
  gate: string;
  outcome: 'approved' | 'rejected';
}
