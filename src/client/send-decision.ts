// Sending a gate decision: the workflow's `decide` update, whose validator refuses at once
// when the workflow no longer waits at that gate (decided by someone else, timed out) —
// as does a workflow that has ended. The CLI and the approver both decide through it.
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { decideUpdate, type DecideResult } from '../domain/messages';
import type { GateDecision } from '../domain/types';

export type Sent = { decided: DecideResult } | { refused: string };

export async function sendDecision(handle: WorkflowHandle, decision: GateDecision, deadlineMs?: number): Promise<Sent> {
  const update = () => handle.executeUpdate(decideUpdate, { args: [decision] });
  try {
    return { decided: await (deadlineMs === undefined ? update() : handle.client.withDeadline(Date.now() + deadlineMs, update)) };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return { refused: err.cause?.message ?? err.message };
    if (err instanceof WorkflowNotFoundError) return { refused: 'the workflow has ended' };
    throw err;
  }
}
