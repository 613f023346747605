// `npm run test:record-histories [e2e files...]`: runs a subset of the e2e suite that
// between them start every workflow type, then test/after-all/record-histories.test.ts
// saves up to two closed histories per type into test/histories/ (replayed by
// test/workflows/replay.test.ts). See docs/testing.md for when to record.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Between them: every workflow type, with gates decided by update, child workflows,
 * timers, cancellations and failed upgrades rolled back; the workflows layer adds
 * cancellations and gate timeouts of the operations (15 minutes on a busy 2-core machine). */
export const RECORDING_FILES = [
  ...[
    'upgrade',
    'rollback',
    'approver',
    'rotate-api-key-secret',
    'rotate-signing-key',
    'dr-drill',
    'scheduled-backup',
    'support-bundle',
    'cleanup',
    'pgbackrest',
    'offsite',
    'preflight',
  ].map((name) => `test/e2e/${name}.test.ts`),
  ...['cancel', 'gates', 'cancellation'].map((name) => `test/workflows/${name}.test.ts`),
];

const files = process.argv.length > 2 ? process.argv.slice(2) : RECORDING_FILES;
const result = await execa(process.execPath, ['--import', 'tsx', 'scripts/test.ts', ...files, 'test/after-all/record-histories.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  reject: false,
  env: { ...process.env, DAY2_RECORD_HISTORIES: process.env.DAY2_RECORD_HISTORIES || path.join(root, 'test/histories') },
});
process.exit(result.exitCode ?? 1);
