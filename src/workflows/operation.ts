// What every day2 workflow does first: tag itself for search and set up progress + gates.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { DEPLOYMENT, OPERATION, TARGET_VERSION } from '../domain/search-attributes';
import type { Operation } from '../domain/types';
import { Gates } from './gate';
import { ProgressTracker } from './progress';

export function beginOperation(operation: Operation, deployment: string, steps: string[], targetVersion?: string) {
  upsertSearchAttributes([
    { key: DEPLOYMENT, value: deployment },
    { key: OPERATION, value: operation },
    ...(targetVersion ? [{ key: TARGET_VERSION, value: targetVersion }] : []),
  ]);
  const progress = new ProgressTracker(operation, deployment, steps);
  const gates = new Gates(progress);
  return { progress, gates };
}

/** `20261122110400`: a compact UTC stamp for names derived from the workflow's start. */
export function compactStamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
