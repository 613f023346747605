// day2's custom search attributes: the Web UI and `day2 list` filter on them, and the
// automated approver finds waiting gates with them. Registered by `day2 dev`; for a
// production cluster see the README (temporal operator search-attribute create …).
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

/** What @temporalio/common's keywordKey(name, 'KEYWORD') returns, without
 * loading that package at the CLI's start (test/unit/message-definitions.test.ts). */
export const keywordKey = (name: string): SearchAttributeKey<'KEYWORD'> => ({ name, type: 'KEYWORD' });

export const DEPLOYMENT = keywordKey('Day2Deployment');
export const OPERATION = keywordKey('Day2Operation');
export const TARGET_VERSION = keywordKey('Day2TargetVersion');
/** Name of the gate the workflow waits at, or '' when it waits at none. */
export const WAITING_GATE = keywordKey('Day2Gate');
/** The fleet a workflow belongs to (the fleet's own id): the Web UI lists a fleet's children with it. */
export const FLEET = keywordKey('Day2Fleet');

export const DAY2_SEARCH_ATTRIBUTES = [DEPLOYMENT, OPERATION, TARGET_VERSION, WAITING_GATE, FLEET];
