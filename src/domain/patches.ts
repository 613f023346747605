// Every `patched()` id day2's workflows use. A change to what a workflow does goes behind
// one, so histories of runs started before it still replay; the ids are listed here so
// nothing else has to hunt for them (the codec test checks that a patch marker, which the
// SDK writes in the clear, holds nothing but one of these).
export const PATCHES = {
  notifyWebhook: 'notify-webhook',
  notifySkippedSchedule: 'notify-skipped-schedule',
  offsiteCopy: 'offsite-copy',
  preUpgradePreflight: 'pre-upgrade-preflight',
  countKeptCopies: 'count-kept-copies',
  releaseAwareRestore: 'release-aware-restore',
  restorePreflight: 'restore-preflight',
} as const;

export const PATCH_IDS: readonly string[] = Object.values(PATCHES);
