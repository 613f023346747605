// A point-in-time restore's target and how it is named, for the pgBackRest workflows. Kept
// apart from pgbackrest.ts so that the workflow bundle has no zod: the reusable V8 context
// gives every cached workflow its own instance of each bundled module, and zod's cost each
// workflow ≈ 0.6 MB of heap (100 backups at once: worker peak 409–430 MiB with it, 310
// without). test/unit/workflow-bundle-imports.test.ts keeps it out.
export type RestoreTarget = { kind: 'time'; time: string } | { kind: 'lsn'; lsn: string } | { kind: 'latest' };

export function describeTarget(t: RestoreTarget): string {
  return t.kind === 'time' ? `time ${t.time}` : t.kind === 'lsn' ? `LSN ${t.lsn}` : 'the latest archived WAL';
}
