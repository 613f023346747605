// Which host queues this workflow is waiting on with nobody picking its activities up: the
// routing interceptor (host-routing.ts) reports it, the progress tracker shows it. Module
// state is per workflow execution (each runs in its own context), so this is one workflow's.
import type { HostWait } from '../domain/hosts';

type Listener = (wait: HostWait | undefined) => void;

const waits = new Map<string, { wait: HostWait; count: number }>();
let listener: Listener | undefined;

/** Called with the oldest wait whenever the set changes (undefined: none left). */
export function onHostWait(l: Listener): void {
  listener = l;
  l(current());
}

/** An activity on `wait.host` timed out waiting to be picked up; returns its end. */
export function hostWaitBegan(wait: HostWait): () => void {
  const entry = waits.get(wait.host) ?? { wait, count: 0 };
  entry.count++;
  waits.set(wait.host, entry);
  listener?.(current());
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--entry.count === 0) waits.delete(wait.host);
    listener?.(current());
  };
}

function current(): HostWait | undefined {
  let oldest: HostWait | undefined;
  for (const { wait } of waits.values()) if (!oldest || wait.since < oldest.since) oldest = wait;
  return oldest;
}
