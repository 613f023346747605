// `npm run demo:upgrade`: upgrades and an automatic rollback, end to end, with real parts.
// A Temporal dev server (or the one already running), a private PostgreSQL, the sample
// ledger on release 1.0.0 with seeded data, a day2 worker; then
//   1. upgrade 1.0.0 → 1.1.0 (migrations: a new table),
//   2. upgrade 1.1.0 → 1.2.0 with no migration left to run (applied beforehand),
//   3. upgrade to 1.3.0, which migrates and then never gets ready: rolled back on its own.
// A probe polls /health/ready every 100 ms during 1 and 2 and prints how long the service
// was unavailable. Prints each workflow's Web UI link. `--keep` leaves everything running.
import { must, type LedgerDeployment } from '../examples/ledger-deployment';
import { tableChecksums } from '../src/activities/shared/table-checksums';
import { expectExit, runDemo, say, type DemoStack } from './demo-stack';
import { startReadinessProbe, type ProbeReport } from './readiness-probe';

// The worker runs in this process: only its errors, so the story (and the expected
// NotReady of release 1.3.0) reads cleanly.
process.env.DAY2_LOG_LEVEL ??= 'error';
/** The demo's readiness budget: a broken release is given up on after this long. */
const READY_TIMEOUT_S = 10;

async function serviceVersion(d: LedgerDeployment): Promise<string> {
  return ((await (await fetch(`${d.baseUrl}/conformance`)).json()) as { version: string }).version;
}

/** An upgrade with the probe running; returns the probe's report. */
async function measuredUpgrade(d: LedgerDeployment, day2: DemoStack['day2'], version: string): Promise<ProbeReport> {
  const probe = startReadinessProbe(`${d.baseUrl}/health/ready`, 100);
  const r = await day2('upgrade', version);
  const report = await probe.stop();
  expectExit(r, 0, `upgrade to ${version}`);
  return report;
}

function printProbe(what: string, p: ProbeReport): void {
  const outages = p.outages.map((o) => `${o.ms} ms at +${(o.atMs / 1000).toFixed(1)} s`).join(', ') || 'none';
  process.stdout.write(`${what}: unavailable ${p.unavailableMs} ms (${p.failed}/${p.probes} probes failed; outages: ${outages})\n`);
}

runDemo(
  'demo-upgrade',
  () => ({ autoRollback: true, readyTimeoutSeconds: READY_TIMEOUT_S }),
  async ({ deployment: d, day2 }) => {
    say('Upgrade 1.0.0 → 1.1.0 (pre-upgrade backup, migration: a new table), readiness probed every 100 ms');
    const withMigration = await measuredUpgrade(d, day2, '1.1.0');
    printProbe('1.0.0 → 1.1.0', withMigration);

    say("Upgrade 1.1.0 → 1.2.0 with an empty migration set (1.2.0's migration applied beforehand; 1.1.0 runs fine on it)");
    process.stdout.write(`ctl migrate 1.2.0 → ${(await must(d.ctl('migrate', '1.2.0'), 'migrate')).trim()}\n`);
    const noMigration = await measuredUpgrade(d, day2, '1.2.0');
    printProbe('1.1.0 → 1.2.0 (no migration)', noMigration);

    say('Upgrade to 1.3.0: it migrates, then never becomes ready — day2 rolls it back by itself');
    const before = await tableChecksums(d.databaseUrl);
    expectExit(await day2('upgrade', '1.3.0'), 1, 'upgrade to 1.3.0 (rolled back)');
    const after = await tableChecksums(d.databaseUrl);
    const differing = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
    if (differing.length) throw new Error(`after the rollback these tables differ: ${differing.join(', ')}`);
    const version = await serviceVersion(d);
    if (version !== '1.2.0') throw new Error(`after the rollback the service reports ${version}, expected 1.2.0`);
    say(`Back on ${version}, ready, and all ${Object.keys(before).length} tables match their state before the failed upgrade`);

    say('Unavailable time (readiness polled every 100 ms; resolution ±100 ms)');
    printProbe('  upgrade with a migration  1.0.0 → 1.1.0', withMigration);
    printProbe('  upgrade, no migration     1.1.0 → 1.2.0', noMigration);
  },
);
