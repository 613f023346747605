// The release an upgrade or rollback wrote down for a deployment: its env file's version
// variable, else the first line of its version file. Read by the running-version probe and
// by a `start` command that names `{version}`.
import { readFile } from 'node:fs/promises';
import { readEnvFile } from '../../envfile';

/** Where the running release is written (upgrade and rollback write both). */
export interface ReleaseSource {
  envFile: string;
  versionVar: string;
  versionFile?: string;
}

export async function writtenRelease(src: ReleaseSource): Promise<{ version: string; source: string } | null> {
  const fromEnv = (await readEnvFile(src.envFile)).get(src.versionVar)?.trim();
  if (fromEnv) return { version: fromEnv, source: `env file ${src.versionVar}` };
  const fromFile = src.versionFile ? await firstLine(src.versionFile) : null;
  return fromFile ? { version: fromFile, source: 'version file' } : null;
}

async function firstLine(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).split(/\r?\n/)[0]?.trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
