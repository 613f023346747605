// The workflows the CLI starts, by type only: `import type` keeps workflow code (and
// @temporalio/workflow) out of the CLI bundle, while a wrong workflow name or input shape
// for an operation fails to compile.
import type * as workflows from '../workflows';
import type { Operation, ScheduledOperation, ScheduledWorkflowTypeOf, WorkflowTypeOf } from '../domain/operations';

type Workflows = typeof workflows;
type WorkflowName = keyof Workflows;

/** A workflow type named in the operations table, checked against what the worker registers. */
export type OperationWorkflow<O extends Operation> = WorkflowTypeOf<O> & WorkflowName;
export type ScheduledWorkflow<O extends ScheduledOperation> = ScheduledWorkflowTypeOf<O> & WorkflowName;

export type WorkflowFn<W extends WorkflowName> = Workflows[W];
export type InputOf<W extends WorkflowName> = Parameters<Workflows[W]>[0];
export type ResultOf<W extends WorkflowName> = Awaited<ReturnType<Workflows[W]>>;

// Every name in the operations table is a registered workflow: this fails to compile if not.
type Unregistered = Exclude<WorkflowTypeOf<Operation> | ScheduledWorkflowTypeOf<ScheduledOperation>, WorkflowName>;
/** Compiles only when T is never: a type-level check. */
export type AssertNone<T extends never> = T;
export type OperationWorkflowsAreRegistered = AssertNone<Unregistered>;
