// Mutating operations on one deployment share one workflow id, so Temporal itself refuses
// a second one while the first runs (invariant 5). Child workflows get ids under it.
export const MUTATING_PREFIX = 'day2-';

export const mutatingWorkflowId = (deployment: string) => `${MUTATING_PREFIX}${deployment}`;

export const childWorkflowId = (parentId: string, operation: string) => `${parentId}/${operation}`;

/** Read-only operations (preflight, listing backups) may run beside others. The stamp
 * keeps milliseconds so two people asking in the same second do not collide. */
export const readOnlyWorkflowId = (deployment: string, operation: string, at: Date) => `day2-${deployment}-${operation}-${idStamp(at)}`;

/** A fleet run: `day2-fleet-upgrade-20261202T062119806`, sortable by time. */
export const fleetWorkflowId = (operation: string, at: Date) => `day2-fleet-${operation}-${idStamp(at)}`;

const idStamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '').slice(0, 18);

export const approveCommand = (workflowId: string, gate: string) => `day2 approve ${workflowId} --gate ${gate} --reason "<why>"`;
