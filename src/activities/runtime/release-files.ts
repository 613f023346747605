// The files that say which release a deployment runs: the env file's version variable and
// the version file; and the deprecated variables a new release refuses. Edits go through
// editEnvFile, so they are idempotent, atomic, and keep every other line, comment and the
// order. Variable values are never logged (a deprecated variable may hold a secret).
import { readFile } from 'node:fs/promises';
import { GATES } from '../../domain/gate-names';
import type { UpgradePolicy } from '../../domain/release-types';
import { assertVersion } from '../../domain/version';
import { writeFileAtomic } from '../../lib/atomic-file';
import type { ActivityDeps } from '../shared/deps';
import { editEnvFile, readEnvFile } from '../../envfile';

/** A version file day2 creates is not secret: readable by all, like a release tag. */
const VERSION_FILE_MODE = 0o644;

export function releaseFileActivities({ resolve, logger }: ActivityDeps) {
  return {
    /** Sets the env file's version variable and the version file's first line. A file
     * that already says `version` is not rewritten. */
    async writeReleaseVersion(input: {
      deployment: string;
      version: string;
    }): Promise<{ envFileChanged: boolean; versionFileChanged: boolean }> {
      const d = resolve(input.deployment);
      const version = assertVersion(input.version);
      const { changed: envFileChanged } = await editEnvFile(d.envFile, { set: { [d.versionVar]: version } });
      const versionFileChanged = d.versionFile ? await writeVersionFile(d.versionFile, version) : false;
      logger.info({ deployment: input.deployment, version, envFileChanged, versionFileChanged }, 'release version written');
      return { envFileChanged, versionFileChanged };
    },

    /** Comments out the configured deprecated variables still set, each under `# <note>`.
     * Returns their names; a second run finds them commented out and changes nothing. */
    async commentOutDeprecatedVars(input: { deployment: string; note: string }): Promise<{ commentedOut: string[] }> {
      const d = resolve(input.deployment);
      if (!d.deprecatedVars.length) return { commentedOut: [] };
      const active = await readEnvFile(d.envFile);
      const commentedOut = d.deprecatedVars.filter((name) => active.has(name));
      if (commentedOut.length) {
        await editEnvFile(d.envFile, { commentOut: { names: commentedOut, note: input.note } });
        logger.info({ deployment: input.deployment, commentedOut }, 'deprecated variables commented out');
      }
      return { commentedOut };
    },

    /** The config's answer to "roll back without asking?" and the timeouts, read by the
     * worker (whose config is authoritative) and recorded in the workflow's history. */
    async readUpgradePolicy(input: { deployment: string }): Promise<UpgradePolicy> {
      const d = resolve(input.deployment);
      return {
        autoRollback: d.upgrade.autoRollback,
        rollbackGateTimeoutSeconds: d.gates[GATES.rollbackFailedUpgrade]?.timeoutSeconds,
        readyTimeoutSeconds: d.health.timeoutSeconds,
        deprecatedVars: d.deprecatedVars,
      };
    },
  };
}

/** Replaces the first line (the version) and keeps any others; false when already right. */
async function writeVersionFile(file: string, version: string): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const lines = current === undefined ? [''] : current.split('\n');
  if (lines[0]?.replace(/\r$/, '').trim() === version) return false;
  lines[0] = lines[0]?.endsWith('\r') ? `${version}\r` : version;
  const text = lines.join('\n');
  await writeFileAtomic(file, text.endsWith('\n') ? text : `${text}\n`, current === undefined ? VERSION_FILE_MODE : undefined);
  return true;
}
