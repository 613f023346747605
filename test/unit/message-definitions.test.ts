// The domain's message definitions and search attribute keys are written out
// (src/domain/message-definitions.ts, search-attributes.ts) so
// the CLI does not load @temporalio/workflow at start: they must stay what the SDK's own
// define* functions return, or a workflow's handler and the client's call would differ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { queryNamed, signalNamed, updateNamed } from '../../src/domain/message-definitions';
import { keywordKey } from '../../src/domain/search-attributes';

test('queryNamed, signalNamed and updateNamed return what defineQuery, defineSignal and defineUpdate do', () => {
  assert.deepEqual(queryNamed('progress'), defineQuery('progress'));
  assert.deepEqual(signalNamed('approve'), defineSignal('approve'));
  assert.deepEqual(updateNamed('decide'), defineUpdate('decide'));
});

test("keywordKey returns what defineSearchAttributeKey(name, 'KEYWORD') does", () => {
  assert.deepEqual(keywordKey('Day2Deployment'), defineSearchAttributeKey('Day2Deployment', 'KEYWORD'));
});
