// A fleet operation: the per-deployment workflow (upgrade, backup, API-key rotation,
// preflight) on many deployments, canaries first, then waves, halting when errors cross the
// budget. Each child keeps its deployment's one-operation id (invariant 5), so a fleet
// never runs beside a manual operation: a busy deployment is waited for or skipped.
// Children are abandoned, not cancelled, when the fleet is cancelled or closes: an
// operation on a deployment always ends in its own named state.
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  budgetCrossed,
  budgetOf,
  fleetStatusQuery,
  isError,
  planWaves,
  stateOfResult,
  type FleetInput,
  type FleetRow,
  type FleetStatus,
} from '../domain/fleet';
import { DEPLOYMENT, FLEET, OPERATION, TARGET_VERSION } from '../domain/search-attributes';
import { GATES } from '../domain/gate-names';
import { HOST_MEMO, hostTaskQueue } from '../domain/hosts';
import type { CheckResult } from '../domain/types';
import { mutatingWorkflowId } from '../domain/workflow-ids';
import { long } from './activity-proxies';
import { watchCancellation } from './cancellation';
import { Gates } from './gate';
import { errorMessage, ProgressTracker } from './progress';

const CHILD_TYPE = { upgrade: 'upgrade', backup: 'backup', 'rotate-api-key-secret': 'rotateApiKeySecret', preflight: 'preflight' } as const;
/** Continue-as-new between waves once history is this long (Temporal's hard limit is 51,200 events). */
const DEFAULT_HISTORY_LIMIT = 10_000;
const BUSY_RETRY_MS = 15_000;

const waveStep = (i: number, names: readonly string[], canary: boolean) =>
  `${canary ? 'Canary wave' : `Wave ${i}`}: ${names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`}`;

export async function fleet(input: FleetInput): Promise<FleetStatus> {
  const info = workflowInfo();
  const names = input.members.map((m) => m.name);
  const total = names.length;
  const concurrency = budgetOf(input.maxConcurrency, total, { atLeastOne: true });
  const maxErrors = budgetOf(input.maxErrors, total);
  const plan = planWaves(names, input.canary, concurrency);
  const waves = plan.canary.length ? [plan.canary, ...plan.waves] : plan.waves;
  const stepOf = (w: number) => waveStep(plan.canary.length ? w : w + 1, waves[w] ?? [], plan.canary.length > 0 && w === 0);
  const promoteStep = `Promote gate (${GATES.promoteFleet})`;
  const soakStep =
    input.soakSeconds > 0 ? `Soak ${input.soakSeconds} s with the canaries' verify checks` : "Run the canaries' verify checks";
  const steps = waves.map((_, w) => stepOf(w));
  if (plan.canary.length) steps.splice(1, 0, soakStep, promoteStep);

  upsertSearchAttributes([
    { key: OPERATION, value: `fleet-${input.operation}` },
    { key: FLEET, value: input.fleetId },
  ]);
  const progress = new ProgressTracker('fleet', `${total} deployments`, steps);
  const gates = new Gates(progress);
  const carried = input.carried;
  const rows: FleetRow[] =
    carried?.rows ??
    input.members.map((m) => ({ deployment: m.name, host: m.host, wave: waves.findIndex((w) => w.includes(m.name)), state: 'pending' }));
  for (const s of carried?.steps ?? []) progress.mark(s.name, s.status, s.detail);
  const status: FleetStatus = {
    fleetId: input.fleetId,
    operation: input.operation,
    version: input.version,
    maxErrors,
    concurrency,
    canary: plan.canary.length,
    rows,
    halted: carried?.halted,
    runs: (carried?.runs ?? 0) + 1,
  };
  setHandler(fleetStatusQuery, () => status);
  const errors = () => rows.filter((r) => isError(r.state)).length;
  const cancel = watchCancellation();

  const runMember = async (row: FleetRow): Promise<void> => {
    const childId = input.operation === 'preflight' ? `${info.workflowId}/preflight-${row.deployment}` : mutatingWorkflowId(row.deployment);
    const waitUntil = Date.now() + input.busyWaitSeconds * 1000;
    let handle;
    for (;;) {
      if (cancel.requested) return void (row.state = 'untouched');
      try {
        // Started outside the fleet's cancellation scope: the child's result stays awaitable
        // after `day2 cancel` on the fleet, so its real end state is reported.
        handle = await CancellationScope.nonCancellable(() =>
          startChild(childType(input, row.deployment), {
            workflowId: childId,
            args: [childArgs(input, row.deployment)],
            // Its activities run where its deployment lives (src/workflows/host-routing.ts).
            memo: { [HOST_MEMO]: row.host },
            parentClosePolicy: ParentClosePolicy.ABANDON,
            cancellationType: ChildWorkflowCancellationType.ABANDON,
            typedSearchAttributes: [
              { key: DEPLOYMENT, value: row.deployment },
              { key: OPERATION, value: input.operation },
              { key: FLEET, value: input.fleetId },
              ...(input.version ? [{ key: TARGET_VERSION, value: input.version }] : []),
            ],
            staticSummary: `day2 ${input.operation} on ${row.deployment} (fleet ${input.fleetId}, wave ${row.wave})`,
          }),
        );
        break;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        if (input.ifBusy === 'skip' || Date.now() >= waitUntil) {
          row.state = 'skipped-busy';
          row.detail = `another operation holds ${row.deployment} (workflow ${childId})${input.ifBusy === 'wait' ? `, still after ${input.busyWaitSeconds} s` : ''}`;
          return;
        }
        row.state = 'waiting';
        row.detail = `busy: waiting for workflow ${childId} to end`;
        // A cancellation ends the wait: the deployment stays untouched.
        if (await condition(() => cancel.requested !== undefined, Math.min(BUSY_RETRY_MS, Math.max(1, waitUntil - Date.now())))) {
          return void (row.state = 'untouched');
        }
      }
    }
    row.state = 'running';
    row.detail = undefined;
    row.workflowId = handle.workflowId;
    row.runId = handle.firstExecutionRunId;
    row.startedAt = new Date().toISOString();
    try {
      const result = await handle.result();
      row.state = stateOfResult(result);
      row.detail = (result as { reason?: string })?.reason;
    } catch (err) {
      row.state = isCancellation(err) || isCancellation((err as { cause?: unknown })?.cause) ? 'cancelled' : 'failed';
      row.detail = errorMessage(err);
    }
    row.endedAt = new Date().toISOString();
  };

  const runWave = async (w: number): Promise<void> => {
    const members = rows.filter((r) => r.wave === w && r.state === 'pending');
    progress.mark(stepOf(w), 'running', `${members.length} started`);
    await Promise.all(members.map(runMember));
    const inWave = rows.filter((r) => r.wave === w);
    const bad = inWave.filter((r) => isError(r.state) || r.state === 'cancelled').length;
    progress.mark(stepOf(w), bad ? 'failed' : 'done', summarize(inWave));
  };

  const startWave = carried?.nextWave ?? 0;
  try {
    for (let w = startWave; w < waves.length && !status.halted; w++) {
      if (cancel.requested) break;
      if (w === 1 && plan.canary.length && !carried?.promoted) {
        const verdict = await promote(input, plan.canary, status, progress, gates, { soakStep, promoteStep });
        if (verdict) {
          status.halted = verdict;
          break;
        }
      }
      await runWave(w);
      if (budgetCrossed(errors(), maxErrors) || (w === 0 && plan.canary.length && errors() > 0)) {
        status.halted = `${errors()} deployment(s) failed, more than the error budget of ${maxErrors}: nothing more was started`;
        break;
      }
      const limit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
      if (w + 1 < waves.length && !cancel.requested && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit)) {
        // Between waves no child is running: the next run starts where this one stopped.
        await continueAsNew<typeof fleet>({
          ...input,
          carried: { rows, nextWave: w + 1, promoted: true, steps: progress.snapshot.steps, halted: status.halted, runs: status.runs },
        });
      }
    }
  } catch (err) {
    // A cancellation while soaking or at the gate: nothing was running; fall through.
    if (!isCancellation(err)) throw err;
  }
  for (const r of rows) if (r.state === 'pending' || r.state === 'waiting') r.state = 'untouched';
  status.outcome = cancel.requested ? 'cancelled' : status.halted ? 'halted' : 'finished';
  status.summary = fleetSummary(status, info.workflowId);
  progress.finish(status.summary);
  if (cancel.requested) throw cancel.requested;
  return status;
}

const pgbackrestOf = (input: FleetInput, deployment: string) => input.members.find((m) => m.name === deployment)?.pgbackrest;

function childType(input: FleetInput, deployment: string): string {
  return input.operation === 'backup' && pgbackrestOf(input, deployment) ? 'pgbackrestBackup' : CHILD_TYPE[input.operation];
}

function childArgs(input: FleetInput, deployment: string): unknown {
  const pgbackrest = pgbackrestOf(input, deployment);
  // A fleet upgrade that fails on one deployment rolls that deployment back at once (its own
  // workflow, its own gate skipped): a fleet must not leave a deployment waiting for a person.
  if (input.operation === 'upgrade') return { deployment, version: input.version, yes: true, ...(pgbackrest ? { pgbackrest } : {}) };
  // Nor at the restart archiving needs: that member fails, saying to run day2 backup once.
  if (input.operation === 'backup' && pgbackrest) return { deployment, type: pgbackrest.type, refuseRestart: true };
  return { deployment };
}

/** The canaries' verify checks on their hosts (once, or in rounds for the soak), then the
 * promote gate, whose deciders (a person, the automated approver) see those results.
 * Returns why the fleet halts, if it does. */
async function promote(
  input: FleetInput,
  canaries: readonly string[],
  status: FleetStatus,
  progress: ProgressTracker,
  gates: Gates,
  names: { soakStep: string; promoteStep: string },
): Promise<string | undefined> {
  const { rows } = status;
  progress.mark(names.soakStep, 'running');
  const until = Date.now() + input.soakSeconds * 1000;
  let rounds = 0;
  for (;;) {
    rounds++;
    const results: CheckResult[] = [];
    for (const deployment of canaries) {
      const host = rows.find((r) => r.deployment === deployment)?.host;
      const taskQueue = hostTaskQueue(workflowInfo().taskQueue, host);
      const checks = await long.runDeploymentChecks.executeWithOptions(
        { summary: `${deployment}'s verify checks (canary, round ${rounds})`, ...(taskQueue ? { taskQueue } : {}) },
        [{ deployment, set: 'verify' }],
      );
      results.push(...checks.map((c) => ({ ...c, name: `${deployment}: ${c.name}` })));
    }
    status.canaryChecks = results;
    const failed = results.filter((c) => !c.ok);
    if (failed.length) {
      const why = `canary checks failed (round ${rounds}): ${failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}`;
      progress.mark(names.soakStep, 'failed', why);
      return why;
    }
    if (Date.now() >= until) break;
    await sleep(Math.max(1, Math.min(60_000, until - Date.now())));
  }
  progress.mark(
    names.soakStep,
    'done',
    `${status.canaryChecks.length} check(s) passed on ${canaries.length} canary deployment(s)${rounds > 1 ? `, ${rounds} rounds` : ''}`,
  );
  const canaryRows = rows.filter((r) => canaries.includes(r.deployment));
  const decision = await gates.wait(names.promoteStep, {
    name: GATES.promoteFleet,
    question: `Canaries ${canaries.join(', ')}: ${summarize(canaryRows)}, their checks passed. Promote the fleet ${input.operation} to the remaining ${rows.length - canaries.length} deployment(s)?`,
    timeoutSeconds: input.promoteTimeoutSeconds,
    defaultOutcome: 'reject',
  });
  if (!decision.approve) return `the promote gate was rejected by ${decision.by}: ${decision.reason}`;
  return undefined;
}

function summarize(rows: readonly FleetRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

function fleetSummary(status: FleetStatus, workflowId: string): string {
  const head =
    status.outcome === 'cancelled' ? 'cancelled: nothing new was started' : status.halted ? `halted: ${status.halted}` : 'finished';
  return `${head}; ${summarize(status.rows)} (day2 fleet status ${workflowId})`;
}
