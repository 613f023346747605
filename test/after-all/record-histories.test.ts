// After every other file (scripts/test.ts runs test/after-all/ last): with
// DAY2_RECORD_HISTORIES=<dir> (`npm run test:record-histories`), saves up to two closed
// histories per workflow type from the shared Temporal server into <dir>, preferring the
// ones that exercise the most (gates decided by signal or update, child workflows, timers,
// cancellation). A history holding any secret value the run recorded, or an encrypted
// payload (the replay worker has no codec), is never written. Without the variable it
// does nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { isEncrypted } from '../../src/codec/aes-gcm-codec';
import { historyFromRecord, historyToRecord, WORKFLOW_TYPES, type RecordedHistory } from '../harness/histories';
import { historyText, needles, readRecordedSecrets } from '../harness/secret-scan';
import { startTemporal } from '../harness/temporal';

const out = process.env.DAY2_RECORD_HISTORIES;

/** Event kinds worth having in a replayed history, by the name used in the file's case. */
const FEATURES: Record<string, RegExp> = {
  signal: /^EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED$/,
  update: /^EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED$/,
  child: /^EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED$/,
  timer: /^EVENT_TYPE_TIMER_STARTED$/,
  cancel: /^EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED$/,
  marker: /^EVENT_TYPE_MARKER_RECORDED$/,
  'activity-failure': /^EVENT_TYPE_ACTIVITY_TASK_FAILED$/,
};

interface Candidate {
  info: WorkflowExecutionInfo;
  json: string;
  features: string[];
  events: number;
}

test('record workflow histories for replay', { skip: !out && 'DAY2_RECORD_HISTORIES not set' }, async () => {
  const dir = path.resolve(out!);
  mkdirSync(dir, { recursive: true });
  const secrets = readRecordedSecrets();
  assert.ok(secrets.length, 'no secrets recorded by this run: cannot check the histories are clean (run through scripts/test.ts)');
  const commit = process.env.DAY2_RECORD_COMMIT || execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const temporal = await startTemporal();
  const byType = new Map<string, Candidate[]>();
  const refused: string[] = [];
  try {
    for await (const info of temporal.client.workflow.list()) {
      if (info.status.name === 'RUNNING') continue;
      const history = await temporal.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      const events = history.events ?? [];
      const record = historyToRecord(history);
      const payloads = JSON.stringify(record);
      // What the replay test will read must be what the server holds.
      assert.equal(
        JSON.stringify(historyToRecord(historyFromRecord(record))),
        payloads,
        `${info.workflowId}: the history does not round-trip`,
      );
      const scan = await historyText(history);
      if (secrets.some((s) => needles(s).some((n) => scan.includes(n) || payloads.includes(n)))) {
        refused.push(`${info.type}/${info.workflowId}: holds a secret value`);
        continue;
      }
      if (hasEncryptedPayload(history)) {
        refused.push(`${info.type}/${info.workflowId}: encrypted payloads`);
        continue;
      }
      const kinds = JSON.parse(payloads).events.map((e: { eventType: string }) => e.eventType) as string[];
      const features = Object.entries(FEATURES)
        .filter(([, re]) => kinds.some((k) => re.test(k)))
        .map(([name]) => name);
      const list = byType.get(info.type) ?? [];
      list.push({ info, json: payloads, features, events: events.length });
      byType.set(info.type, list);
    }
  } finally {
    await temporal.stop();
  }
  const written: string[] = [];
  for (const [type, candidates] of byType) {
    const score = (c: Candidate) => c.features.length * 10_000 + c.events;
    const best = (status: (s: string) => boolean) =>
      candidates.filter((c) => status(c.info.status.name)).sort((a, b) => score(b) - score(a))[0];
    const picks = [best((s) => s === 'COMPLETED'), best((s) => s !== 'COMPLETED')].filter((c): c is Candidate => !!c);
    for (const c of picks) {
      const name = `${c.info.status.name.toLowerCase()}${c.features.length ? `-${c.features.join('-')}` : ''}`;
      const record: RecordedHistory = {
        workflowType: type,
        case: name,
        workflowId: c.info.workflowId,
        runId: c.info.runId,
        recordedAt: new Date().toISOString(),
        commit,
        history: JSON.parse(c.json),
      };
      const file = `${type}-${name}.json`;
      writeFileSync(path.join(dir, file), `${JSON.stringify(record, null, 1)}\n`);
      written.push(file);
    }
  }
  console.log(`recorded ${written.length} histories into ${dir}:\n  ${written.join('\n  ')}`);
  if (refused.length) console.log(`not recorded:\n  ${refused.join('\n  ')}`);
  const missing = WORKFLOW_TYPES.filter((t) => !byType.has(t));
  if (missing.length) console.log(`no closed history of: ${missing.join(', ')} (run more e2e files)`);
});

function hasEncryptedPayload(value: unknown): boolean {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some(hasEncryptedPayload);
  const record = value as Record<string, unknown>;
  if ('data' in record && 'metadata' in record && isEncrypted(record as never)) return true;
  return Object.values(record).some(hasEncryptedPayload);
}
