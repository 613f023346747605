// pull / present / version: the release "images" of the commands runtime. Pulling only
// records the version (there is no registry); `run/registry-down` simulates an outage.
import { existsSync } from 'node:fs';
import { LedgerError } from '../errors';
import { isKnownRelease, unknownReleaseMessage } from '../releases';
import { readPulledVersions, recordPulledVersion, type RunDir } from '../run-dir';
import { loadSettings } from '../settings';
import { say } from './output';

export function pull(run: RunDir, version: string): void {
  if (!isKnownRelease(version)) throw new LedgerError(unknownReleaseMessage(version));
  if (existsSync(run.registryDownFile)) throw new LedgerError(`registry unreachable: cannot pull ${version}`);
  recordPulledVersion(run, version);
  say(`pulled ${version}`);
}

/** Exit status 0 when the release was pulled before (the rollback's fallback when a pull fails). */
export function present(run: RunDir, version: string): number {
  const found = readPulledVersions(run).includes(version);
  say(found ? `${version} is present` : `${version} is not present`);
  return found ? 0 : 1;
}

export function printVersion(envFile: string): void {
  process.stdout.write(`${loadSettings(envFile).version}\n`);
}
