// day2's custom search attributes: the Web UI and `day2 list` filter on them, and the
// automated approver finds waiting gates with them. Registered by `day2 dev`; for a
// production cluster see the README (temporal operator search-attribute create …).
import { defineSearchAttributeKey } from '@temporalio/common';

export const DEPLOYMENT = defineSearchAttributeKey('Day2Deployment', 'KEYWORD');
export const OPERATION = defineSearchAttributeKey('Day2Operation', 'KEYWORD');
export const TARGET_VERSION = defineSearchAttributeKey('Day2TargetVersion', 'KEYWORD');
/** Name of the gate the workflow waits at, or '' when it waits at none. */
export const WAITING_GATE = defineSearchAttributeKey('Day2Gate', 'KEYWORD');
/** The fleet a workflow belongs to (the fleet's own id): the Web UI lists a fleet's children with it. */
export const FLEET = defineSearchAttributeKey('Day2Fleet', 'KEYWORD');

export const DAY2_SEARCH_ATTRIBUTES = [DEPLOYMENT, OPERATION, TARGET_VERSION, WAITING_GATE, FLEET];
