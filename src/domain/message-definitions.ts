// Query, signal and update definitions without loading @temporalio/workflow: the CLI
// imports the message names (src/domain/messages.ts) at start, and that package (with
// @temporalio/common under it) is ≈ 30 ms of every `day2 --help`. Each returns exactly
// what the SDK's defineQuery / defineSignal / defineUpdate return ({ type, name }, the
// rest is type-level only); test/unit/message-definitions.test.ts holds them equal.
import type { QueryDefinition, SignalDefinition, UpdateDefinition } from '@temporalio/common';

export const queryNamed = <Ret, Args extends unknown[] = []>(name: string) =>
  ({ type: 'query', name }) as unknown as QueryDefinition<Ret, Args>;

export const signalNamed = <Args extends unknown[] = []>(name: string) => ({ type: 'signal', name }) as unknown as SignalDefinition<Args>;

export const updateNamed = <Ret, Args extends unknown[] = []>(name: string) =>
  ({ type: 'update', name }) as unknown as UpdateDefinition<Ret, Args>;
