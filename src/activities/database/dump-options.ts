// How pg_dump runs for a deployment (backup.format, jobs, compression), and the progress
// it reports while it writes.
import os from 'node:os';
import type { DeploymentConfig } from '../../domain/config-schema';
import { compressionArgs } from '../../domain/dump-compression';
import { transferProgress } from '../../domain/transfer-progress';
import { pgToolMajor } from '../../lib/pg-tools';

/** How pg_dump is to be run: backup.format, jobs and compression (checked against the
 * worker's pg_dump before anything is written). */
export interface DumpOptions {
  format: 'custom' | 'directory';
  jobs: number;
  compression: string[];
}

/** `pgDumpMajor`: the major version of the pg_dump that will run (by default this host's). */
export async function dumpOptionsOf(
  d: DeploymentConfig,
  pgDumpMajor: () => Promise<number> = () => pgToolMajor('pg_dump'),
): Promise<DumpOptions> {
  const compression = d.backup.compression === undefined ? [] : compressionArgs(d.backup.compression, await pgDumpMajor());
  return { format: d.backup.format, jobs: d.backup.jobs ?? os.availableParallelism(), compression };
}

/** Heartbeat details while pg_dump writes: bytes so far against the database's size (the
 * estimate: a compressed dump is usually smaller, so the estimate errs long). */
export function dumpProgress(bytesSoFar: () => Promise<number>, databaseBytes: number): () => unknown {
  const started = Date.now();
  let done = 0;
  return () => {
    void bytesSoFar().then(
      (size) => (done = size),
      () => {},
    );
    return transferProgress({ phase: 'dump', unit: 'bytes', done, total: databaseBytes || undefined, elapsedMs: Date.now() - started });
  };
}
