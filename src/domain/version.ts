// Release versions are semver: `MAJOR.MINOR.PATCH` with an optional pre-release
// (`1.4.0-rc.1`). A version reaches shell commands, image tags and the env file, so
// anything else (`1.2`, `latest`, `1.0; rm -rf /`) is refused before it goes anywhere.
import { BadInputError } from './errors';

const NUMBER = '0|[1-9]\\d*';
const IDENTIFIER = `(?:${NUMBER}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const SEMVER = new RegExp(`^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?$`);

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
}

function parseVersion(text: string): Version | undefined {
  const m = SEMVER.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ? m[4].split('.') : [] };
}

export function isVersion(text: string): boolean {
  return parseVersion(text) !== undefined;
}

/** The version, or a BadInputError saying what a version looks like. */
export function assertVersion(text: string, what = 'version'): string {
  if (!isVersion(text)) {
    // JSON.stringify: a hostile value is shown quoted and escaped, never interpreted.
    throw new BadInputError(
      `${what} ${JSON.stringify(text)} is not a release version`,
      'expected MAJOR.MINOR.PATCH, e.g. 1.4.2 or 1.5.0-rc.1',
    );
  }
  return text;
}

/** Semver precedence: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(assertVersion(a));
  const vb = parseVersion(assertVersion(b));
  if (!va || !vb) return 0; // unreachable: assertVersion threw
  const core = va.major - vb.major || va.minor - vb.minor || va.patch - vb.patch;
  if (core !== 0) return Math.sign(core);
  return comparePrerelease(va.prerelease, vb.prerelease);
}

/** A release sorts after its pre-releases; identifiers compare numerically when both are numbers. */
function comparePrerelease(a: string[], b: string[]): number {
  if (!a.length && !b.length) return 0;
  if (!a.length) return 1;
  if (!b.length) return -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    if (xNum && yNum) return Math.sign(Number(x) - Number(y));
    if (xNum !== yNum) return xNum ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
