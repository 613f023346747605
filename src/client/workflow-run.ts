// One workflow run as the CLI shows it, whichever API it was read from (the SDK's client or
// Temporal's HTTP API).
export interface WorkflowRun {
  workflowId: string;
  runId: string;
  type: string;
  /** The SDK's status name: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, … */
  status: string;
  startTime: Date;
  closeTime?: Date;
}
