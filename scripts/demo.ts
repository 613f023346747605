// `npm run demo`: the whole story on this machine, end to end, with real parts (see
// demo-stack.ts): preflight → backup → its encrypted off-site copy in an S3 bucket
// (versitygw) → DR drill of that backup → DR drill of the off-site copy → change the data →
// restore (its confirmation gate approved through the CLI) → check every table is back → rotate the API-key secret (its gates
// decided by the automated approver) → a support bundle. Prints each workflow's Web UI link. `--keep`
// leaves everything running to explore the UI.
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { must } from '../examples/ledger-deployment';
import { tableChecksums } from '../src/activities/shared/table-checksums';
import { startApprover } from '../src/approver/approver';
import { printApproverEvent } from '../src/approver/format-event';
import { loadConfig } from '../src/config';
import { expectExit, runDemo, say } from './demo-stack';

// The worker runs in this process: keep its JSON logs to warnings so the story stays readable.
process.env.DAY2_LOG_LEVEL ??= 'warn';

/** The rotation's gates are left to the approver: approve when the service stays ready
 * and its database answers, twice in a row. */
const approverPolicy = (baseUrl: string) => ({
  policy: 'auto',
  stableRuns: 2,
  stableIntervalSeconds: 1,
  checks: [
    { kind: 'http', name: 'service ready', url: `${baseUrl}/health/ready`, expectStatus: 200 },
    { kind: 'sql', name: 'database answers', query: 'select 1', expect: '1' },
  ],
});

runDemo(
  'demo',
  (port) => ({
    extra: {
      gates: Object.fromEntries(['verify-dual-secret', 'commit-rotation'].map((g) => [g, approverPolicy(`http://127.0.0.1:${port}`)])),
    },
  }),
  async ({ deployment, day2, onCleanup }) => {
    say('Preflight: is the deployment fit for an operation?');
    expectExit(await day2('preflight'), 0, 'preflight');

    say('Backup → off-site copy: verified locally, then streamed encrypted to the bucket and checked there');
    const backup = await day2('backup');
    expectExit(backup, 0, 'backup');
    const file = /backed up to (\S+?);/.exec(backup.stdout)?.[1];
    if (!file) throw new Error('backup did not report its file');
    if (!/off-site copy verified/.test(backup.stdout)) throw new Error('backup did not report its off-site copy');
    const atBackup = await tableChecksums(deployment.databaseUrl);

    say('What the bucket holds: ciphertext, listed by its manifests (day2 backups --remote)');
    expectExit(await day2('backups', '--remote'), 0, 'backups --remote');

    say('DR drill: does that backup restore? (into a scratch PostgreSQL cluster; production untouched)');
    expectExit(await day2('drill'), 0, 'drill');

    say(
      `DR drill from the off-site copy: ${file} removed from the backup directory first, so it is downloaded, decrypted and verified, then drilled`,
    );
    for (const f of [file, `${file}.manifest.json`]) rmSync(path.join(deployment.backupDir, f));
    expectExit(await day2('drill', '--remote', 'latest'), 0, 'drill --remote latest');
    if (!existsSync(path.join(deployment.backupDir, file)))
      throw new Error(`drill --remote latest did not bring ${file} back into the backup directory`);
    process.stdout.write(`${file} is back in the backup directory, fetched from the bucket and verified\n`);

    say('Change the data (10 more entries) — this is what the restore will undo');
    await must(deployment.ctl('seed', '--entries', '10'), 'seed');
    const changed = await tableChecksums(deployment.databaseUrl);
    process.stdout.write(
      `tables that differ from the backup now: ${Object.keys(changed)
        .filter((t) => changed[t] !== atBackup[t])
        .join(', ')}\n`,
    );

    say(`Restore ${file}: it pauses at the confirmation gate`);
    expectExit(await day2('restore', file), 4, 'restore (paused at its gate)');

    say('Approving the gate through the CLI, as an operator would');
    expectExit(await day2('approve', 'day2-ledger', '--gate', 'confirm-restore', '--reason', 'demo: restore approved'), 0, 'approve');
    expectExit(await day2('status', 'day2-ledger', '--follow'), 0, 'restore');

    const restored = await tableChecksums(deployment.databaseUrl);
    const differing = Object.keys(atBackup).filter((t) => restored[t] !== atBackup[t]);
    if (differing.length) throw new Error(`after the restore these tables differ from the backup: ${differing.join(', ')}`);
    say(`Data is back: all ${Object.keys(atBackup).length} tables match the backup's checksums`);

    say('API-key secret rotation: its gates are decided by the automated approver');
    const approver = await startApprover(loadConfig(deployment.configFile), { intervalSeconds: 1, onEvent: printApproverEvent() });
    onCleanup(() => approver.stop());
    expectExit(await day2('rotate', 'api-key-secret', '--detach'), 0, 'rotate (start)');
    expectExit(await day2('status', 'day2-ledger', '--follow'), 0, 'rotate');
    await must(deployment.ctl('scan'), 'vault chain scan');

    say('Support bundle: what support would ask for, every secret redacted');
    expectExit(await day2('support-bundle'), 0, 'support-bundle');
  },
  { offsite: true },
);
