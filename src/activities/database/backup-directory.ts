// backup.format directory: `pg_dump -Fd -j N` dumps the tables in parallel into a hidden
// directory of this run; its table of contents is checked (`pg_restore --list`); the
// directory is packed into the run's partial file (an uncompressed tar, hashed as it is
// written) and removed. From there on the backup is one file, published like a custom one
// (backup-create.ts). A crash anywhere here leaves only this run's partial names, which
// the retry discards before it starts over.
import { rm } from 'node:fs/promises';
import type { ArchiveContents } from './backup-archive';
import { inspectArchive } from './backup-archive';
import { dumpProgress, type DumpOptions } from './dump-options';
import { directoryBytes, packDirectory } from './directory-archive';
import type { FileDigest } from '../shared/backup-files';
import { beat } from '../shared/heartbeat';
import type { DatabaseTarget } from '../shared/pg-connection';
import { runPgProgram } from '../shared/pg-programs';

export async function dumpDirectoryArchive(
  target: DatabaseTarget,
  partial: { dump: string; dir: string },
  fileName: string,
  opts: DumpOptions,
  databaseBytes: number,
): Promise<{ contents: ArchiveContents; digest: FileDigest }> {
  // pg_dump creates the directory itself (0700), and refuses one that is not empty.
  await runPgProgram({
    tool: 'pg_dump',
    args: ['--format=directory', `--jobs=${opts.jobs}`, ...opts.compression, `--file=${partial.dir}`],
    url: target.ownerLiveUrl,
    what: `dump of ${target.label}`,
    progress: dumpProgress(() => directoryBytes(partial.dir), databaseBytes),
  });
  // Checked before packing: what is packed is what pg_restore read.
  const contents = await inspectArchive(partial.dir, fileName);
  beat({ phase: 'pack' });
  const digest = await packDirectory(partial.dir, partial.dump);
  await rm(partial.dir, { recursive: true, force: true });
  return { contents, digest };
}
