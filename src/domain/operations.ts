// Every day2 operation, once: the workflows that carry it out, whether it changes the
// deployment, and so how its workflow id is made. Mutating operations share one id per
// deployment, so Temporal itself refuses a second one while the first runs (invariant 5);
// the others run under their own time-stamped id beside anything. The CLI, the approver and
// the schedules read this table; the names are recorded in histories and search attributes.
import { mutatingWorkflowId, readOnlyWorkflowId } from './workflow-ids';

interface OperationSpec {
  /** Changes the deployment: one at a time per deployment. */
  readonly mutating: boolean;
  /** The workflow types (as the worker registers them) that run it; which one is chosen
   * by the deployment's backup method. */
  readonly workflows: readonly string[];
  /** The workflow a schedule of this operation starts (it skips a busy deployment). */
  readonly scheduled?: string;
}

export const OPERATIONS = {
  backup: { mutating: true, workflows: ['backup', 'pgbackrestBackup'], scheduled: 'scheduledBackup' },
  restore: { mutating: true, workflows: ['restore', 'pitrRestore'] },
  upgrade: { mutating: true, workflows: ['upgrade'] },
  rollback: { mutating: true, workflows: ['rollback'] },
  'rotate-api-key-secret': { mutating: true, workflows: ['rotateApiKeySecret'] },
  'rotate-signing-key': { mutating: true, workflows: ['rotateSigningKey'] },
  cleanup: { mutating: true, workflows: ['cleanup'] },
  preflight: { mutating: false, workflows: ['preflight'] },
  drill: { mutating: false, workflows: ['drill', 'pgbackrestDrill'], scheduled: 'scheduledDrill' },
  'support-bundle': { mutating: false, workflows: ['supportBundle'] },
  // Listings the CLI reads through the worker (it never talks to the database itself).
  backups: { mutating: false, workflows: ['listBackups'] },
  'offsite-copies': { mutating: false, workflows: ['listOffsiteCopies'] },
  'kept-copies': { mutating: false, workflows: ['listKeptCopies'] },
  // Many deployments: its children, each under its deployment's mutating id, hold them.
  fleet: { mutating: false, workflows: ['fleet'] },
} as const satisfies Record<string, OperationSpec>;

export type Operation = keyof typeof OPERATIONS;
export type MutatingOperation = { [O in Operation]: (typeof OPERATIONS)[O]['mutating'] extends true ? O : never }[Operation];
export type ReadOnlyOperation = Exclude<Operation, MutatingOperation>;
export type ScheduledOperation = { [O in Operation]: (typeof OPERATIONS)[O] extends { scheduled: string } ? O : never }[Operation];
/** The workflow types that may carry out operation `O`. */
export type WorkflowTypeOf<O extends Operation> = (typeof OPERATIONS)[O]['workflows'][number];
export type ScheduledWorkflowTypeOf<O extends ScheduledOperation> = (typeof OPERATIONS)[O]['scheduled'];

const operations = Object.keys(OPERATIONS) as Operation[];

/** The workflow types of every mutating operation (the ones that can hold a deployment). */
export const MUTATING_WORKFLOW_TYPES: readonly string[] = operations
  .filter((o) => OPERATIONS[o].mutating)
  .flatMap((o) => OPERATIONS[o].workflows);

/** The operation a workflow type carries out (for runs without day2's search attributes). */
export function operationOf(workflowType: string): Operation | undefined {
  return operations.find((o) => (OPERATIONS[o].workflows as readonly string[]).includes(workflowType));
}

/** The id a run of `operation` on `deployment` starts under. */
export function workflowIdOf(operation: Operation, deployment: string, at: Date): string {
  return OPERATIONS[operation].mutating ? mutatingWorkflowId(deployment) : readOnlyWorkflowId(deployment, operation, at);
}
