// The recorded workflow histories in test/histories/ (replayed by
// test/workflows/replay.test.ts against the current workflow code, recorded by
// test/after-all/record-histories.test.ts under `npm run test:record-histories`).
// One file per history: `<workflowType>-<case>.json`, the history as JSON wrapped with
// where it came from.
//
// The JSON is protobufjs's own (History.toObject with longs, enums and bytes as strings),
// read back with History.fromObject, not the proto3 JSON of @temporalio/common's
// historyToJSON/historyFromJSON: in this install those fail ("type must be a Type"), as
// @temporalio/common carries its own protobufjs 8 next to @temporalio/proto's 7. Both
// directions here use @temporalio/proto's, so a history round-trips exactly.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { temporal } from '@temporalio/proto';
import proto from '@temporalio/proto';
import * as workflows from '../../src/workflows';

type History = temporal.api.history.v1.IHistory;
const HistoryType = proto.temporal.api.history.v1.History;

export function historyToRecord(history: History): unknown {
  return JSON.parse(JSON.stringify(HistoryType.toObject(HistoryType.fromObject(history), { longs: String, enums: String, bytes: String })));
}

export function historyFromRecord(json: unknown): temporal.api.history.v1.History {
  return HistoryType.fromObject(json as Record<string, unknown>);
}

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
  /** historyToRecord(history): see above. */
  history: unknown;
}

export function readRecordedHistories(dir = HISTORIES_DIR): Array<{ file: string } & RecordedHistory> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RecordedHistory) }));
}
