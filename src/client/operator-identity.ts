// Who a person's decision is recorded as. An audit trail that says "unknown" answers
// nothing, so there is always a name: the one given, else the OS account running the CLI
// (what `id -un` says, before $USER, which a `sudo` or a container may leave stale or unset).
import os from 'node:os';

export interface IdentitySources {
  env: Record<string, string | undefined>;
  /** The OS account's name; may throw (no passwd entry for this uid) or be empty. */
  osUser: () => string | undefined;
  uid: () => number | undefined;
}

const processSources: IdentitySources = {
  env: process.env,
  osUser: () => os.userInfo().username,
  uid: () => process.getuid?.(),
};

/** `--by`, else $DAY2_USER, else the OS user ($USER, $LOGNAME, then `uid:N` when the
 * account has no name). */
export function whoDecides(explicit?: string, sources: IdentitySources = processSources): string {
  const uid = sources.uid();
  return (
    nonBlank(explicit) ??
    nonBlank(sources.env.DAY2_USER) ??
    nonBlank(osUserName(sources)) ??
    nonBlank(sources.env.USER) ??
    nonBlank(sources.env.LOGNAME) ??
    (uid === undefined ? `user@${os.hostname()}` : `uid:${uid}`)
  );
}

function osUserName(sources: IdentitySources): string | undefined {
  try {
    return sources.osUser();
  } catch {
    return undefined;
  }
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
