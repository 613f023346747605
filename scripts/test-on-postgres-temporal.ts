// `npm run test:on-postgres-temporal [files...]`: the given test files (default: the crash
// smoke) through scripts/test.ts, with DAY2_TEST_TEMPORAL_ADDRESS pointed at a Temporal
// server on PostgreSQL persistence (src/temporal-postgres.ts) started for the run, instead
// of the dev server. The server, its PostgreSQL cluster and their directory go at the end.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startTemporalOnPostgres } from '../test/harness/temporal-postgres';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_FILES = ['test/crash-matrix-smoke.test.ts'];

const files = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_FILES;
const started = Date.now();
const server = await startTemporalOnPostgres({ log: (line) => console.log(`test-on-postgres-temporal: ${line}`) });
const t = server.timings;
console.log(
  `test-on-postgres-temporal: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (schema ${(t.schemaMs / 1000).toFixed(1)} s, ` +
    `server ${(t.serverMs / 1000).toFixed(1)} s); server log ${server.logFile}`,
);
let exitCode: number;
const forward = (signal: NodeJS.Signals) => process.on(signal, () => runner.kill(signal));
const runner = execa(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/test.ts'), ...files], {
  cwd: root,
  stdio: 'inherit',
  reject: false,
  env: {
    ...process.env,
    DAY2_TEST_TEMPORAL_ADDRESS: server.address,
    DAY2_TEST_TEMPORAL_HTTP_ADDRESS: server.httpAddress,
    DAY2_TEST_TEMPORAL_NAMESPACE: server.namespace,
  },
});
forward('SIGINT');
forward('SIGTERM');
try {
  const result = await runner;
  exitCode = result.exitCode ?? 1;
} finally {
  await server.stop();
}
process.exit(exitCode);
