// The real fleet workflow with stand-in children, for test/workflows/fleet.test.ts. A
// child's behaviour is chosen by its deployment's name, since the fleet builds the
// children's input: `broken-*` upgrades end rolled back (as a real one whose health check
// fails does), `slow-*` children take a second, everything else succeeds at once.
import { condition, defineSignal, setHandler, sleep } from '@temporalio/workflow';
export { fleet } from '../../src/workflows/fleet';

type ChildInput = { deployment: string; version?: string; pgbackrest?: { type: string } };

async function behave(input: ChildInput): Promise<void> {
  if (input.deployment.startsWith('slow-')) await sleep('1s');
}

export async function upgrade(input: ChildInput) {
  await behave(input);
  if (input.deployment.startsWith('broken-')) {
    return { outcome: 'rolled-back', from: '1.0.0', to: input.version, reason: 'stand-in: the health check failed after the upgrade' };
  }
  // What the fleet told it about the backup method, for the test to read back.
  return {
    outcome: 'upgraded',
    from: '1.0.0',
    to: input.version,
    ...(input.pgbackrest ? { reason: `pgbackrest ${input.pgbackrest.type}` } : {}),
  };
}

/** backup.method pgbackrest members get this child instead of `backup`. */
export async function pgbackrestBackup(input: { deployment: string; type?: string; refuseRestart?: boolean }) {
  return { outcome: 'backed-up', reason: `pgbackrest ${input.type}${input.refuseRestart ? ', refuses the restart gate' : ''}` };
}

export async function backup(input: ChildInput) {
  await behave(input);
  return { file: `${input.deployment}.dump` };
}

export async function preflight(input: ChildInput) {
  return { deployment: input.deployment, checks: [] };
}

export const releaseSignal = defineSignal('release');

/** Holds a deployment's operation id, as a manual operation would, until signalled. */
export async function hold(): Promise<void> {
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => released);
}
