// Support bundles are bare, time-stamped names in the deployment's bundle directory, like
// the runbook's `support-bundle-YYYY-MM-DD-HHMMSS.tar.gz` with the deployment in the name.
import { utcStamp } from './backup-names';

const BUNDLE_NAME = /^support-bundle-[a-z][a-z0-9-]*-\d{4}-\d{2}-\d{2}-\d{6}\.tar\.gz$/;

export function supportBundleFileName(deployment: string, at: Date): string {
  return `support-bundle-${deployment}-${utcStamp(at)}.tar.gz`;
}

/** The folder every file of the bundle sits in, once unpacked. */
export const bundleRootOf = (fileName: string) => fileName.replace(/\.tar\.gz$/, '');

export const isSupportBundleName = (name: string) => BUNDLE_NAME.test(name);
