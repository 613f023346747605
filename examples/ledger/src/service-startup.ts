// What the API and the worker check before doing anything: the env file they were given,
// a known release, and no variable that release has removed. A refusal is printed plainly
// on stderr (the operator reads it in the log `ctl start` shows) and as a log line.
import { parseArgs } from 'node:util';
import { LedgerError, messageOf } from './errors';
import type { Logger } from './logger';
import { requireRelease, type ReleaseFeatures } from './releases';
import { loadSettings, type Settings } from './settings';

export function envFileFromArgv(argv: string[]): string {
  const { values } = parseArgs({ args: argv, options: { 'env-file': { type: 'string' } }, strict: false });
  const envFile = values['env-file'];
  if (typeof envFile !== 'string' || envFile === '') throw new LedgerError('usage: --env-file <path> is required');
  return envFile;
}

export function loadStartupSettings(argv: string[], log: Logger): { settings: Settings; release: ReleaseFeatures } {
  try {
    const settings = loadSettings(envFileFromArgv(argv));
    const release = requireRelease(settings.version);
    if (release.refusesLegacyAuth && settings.legacyAuth !== undefined) {
      throw new LedgerError(
        `LEDGER_LEGACY_AUTH is deprecated and was removed in 1.2.0: ledger ${release.version} refuses to start ` +
          'while it is set; remove it (or comment it out) from the env file',
      );
    }
    return { settings, release };
  } catch (error) {
    return refuseToStart(log, error);
  }
}

export function refuseToStart(log: Logger, error: unknown): never {
  const reason = messageOf(error);
  log.fatal('refusing to start', { reason });
  process.stderr.write(`ledger: refusing to start: ${reason}\n`);
  process.exit(1);
}
