// The recorded workflow histories in test/histories/ (replayed by
// test/workflows/replay.test.ts against the current workflow code, recorded by
// test/after-all/record-histories.test.ts under `npm run test:record-histories`).
// One file per history: `<workflowType>-<case>.json`, the server's history JSON
// (historyToJSON) wrapped with where it came from.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as workflows from '../../src/workflows';

export const HISTORIES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'histories');

/** Every workflow type the worker registers (src/workflows/index.ts). */
export const WORKFLOW_TYPES: string[] = Object.keys(workflows).sort();

export interface RecordedHistory {
  workflowType: string;
  /** Why this one: its status and what it exercises (signals, updates, children, timers...). */
  case: string;
  workflowId: string;
  runId: string;
  recordedAt: string;
  /** The git commit the workflow code was at when recorded. */
  commit: string;
  /** historyToJSON(history) parsed: the proto3 JSON Temporal's tools also read. */
  history: unknown;
}

export function readRecordedHistories(dir = HISTORIES_DIR): Array<{ file: string } & RecordedHistory> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RecordedHistory) }));
}
