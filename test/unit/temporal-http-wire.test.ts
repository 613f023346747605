// The HTTP API client's wire forms agree with the SDK's, so a workflow started or listed
// over HTTP reads the same as over gRPC: payloads byte for byte as the SDK's default
// converter writes them, and every workflow status named as the SDK names it.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import proto from '@temporalio/proto';
import { fromPayload, statusName, toPayload } from '../../src/client/temporal-http';

// The SDK's own mapping, reached through what its list() calls for each row.
const require = createRequire(import.meta.url);
const Long = require('long') as { fromNumber(n: number): unknown };
const sdkHelpers = require('@temporalio/client/lib/helpers') as {
  executionInfoFromRaw(raw: object, converter: unknown, embed: unknown, namespace: string): Promise<{ status: { name: string } }>;
};
const sdkStatusName = async (status: number) =>
  (
    await sdkHelpers.executionInfoFromRaw(
      {
        execution: { workflowId: 'w', runId: 'r' },
        type: { name: 't' },
        status,
        startTime: { seconds: Long.fromNumber(1) },
        historyLength: Long.fromNumber(1),
      },
      loadDataConverter(),
      undefined,
      'default',
    )
  ).status.name;

test('payloads are written as the SDK default converter writes them, and read back', () => {
  for (const value of [
    { deployment: 'ledger', keep: 3 },
    'day2 backup on ledger',
    42,
    null,
    [1, 'a'],
    undefined,
    { nested: { ok: true } },
  ]) {
    const ours = toPayload(value);
    const sdk = defaultPayloadConverter.toPayload(value);
    assert.deepEqual(
      { metadata: ours.metadata, data: Buffer.from(ours.data ?? []) },
      { metadata: sdk.metadata, data: Buffer.from(sdk.data ?? []) },
      `payload of ${JSON.stringify(value)}`,
    );
    assert.deepEqual(fromPayload(ours), value);
  }
  assert.throws(
    () => fromPayload({ metadata: { encoding: Buffer.from('binary/encrypted') }, data: new Uint8Array() }),
    /encoding 'binary\/encrypted'/,
  );
});

test('every workflow status is named as the SDK names it', async () => {
  const statuses = proto.temporal.api.enums.v1.WorkflowExecutionStatus;
  const names = Object.keys(statuses).filter((k) => k.startsWith('WORKFLOW_EXECUTION_STATUS_'));
  assert.ok(names.length >= 8, names.join());
  for (const wire of names) {
    const code = statuses[wire as keyof typeof statuses] as number;
    assert.equal(statusName(wire), await sdkStatusName(code), wire);
  }
});
