// `day2 dev` (a local Temporal dev server with the Web UI) and `day2 worker`. What they run
// is imported when they run: the worker, the approver and the dev-server launcher pull in
// the Temporal worker, pg, execa and every activity, which the other commands (and
// `--help`) would otherwise load at every start.
import path from 'node:path';
import type { Command } from 'commander';
import { configPath, loadConfig, processSettings } from '../../config';
import type { CliContext } from '../context';

export function registerProcessCommands(program: Command, context: () => CliContext): void {
  program
    .command('dev')
    .description("run a local Temporal dev server (SQLite under .day2/, Web UI) with day2's search attributes")
    .option('--port <n>', 'gRPC port', (v) => Number(v), 7233)
    .option('--ui-port <n>', 'Web UI port', (v) => Number(v), 8233)
    .option('--db <file>', 'SQLite file', '.day2/temporal.sqlite')
    .option(
      '--persistence <store>',
      'sqlite (the dev server, with the Web UI) or postgres (the Temporal server on a private PostgreSQL, no Web UI)',
      'sqlite',
    )
    .option('--data-dir <dir>', 'with --persistence postgres: where its PostgreSQL and config live', '.day2/temporal-postgres')
    .addHelpText('after', '\nExample:\n  day2 dev            # then open http://127.0.0.1:8233\n  day2 dev --persistence postgres')
    .action(async (opts: { port: number; uiPort: number; db: string; persistence: string; dataDir: string }) => {
      const { ensureTemporalCli } = await import('../../temporal-cli');
      const { isServerRunning, registerSearchAttributes, startDevServer } = await import('../../dev-server');
      const cliPath = await ensureTemporalCli();
      const address = `127.0.0.1:${opts.port}`;
      if (await isServerRunning(address)) {
        await registerSearchAttributes(cliPath, address, 'default');
        process.stdout.write(`a Temporal server already answers at ${address}; search attributes registered\n`);
        return;
      }
      if (opts.persistence === 'postgres') return runPostgresServer(cliPath, opts.port, path.resolve(opts.dataDir));
      if (opts.persistence !== 'sqlite') throw new Error(`--persistence ${opts.persistence}: expected sqlite or postgres`);
      const server = await startDevServer({
        cliPath,
        dbFile: path.resolve(opts.db),
        port: opts.port,
        uiPort: opts.uiPort,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(
        `Temporal dev server at ${server.address}, HTTP API ${server.httpAddress}, Web UI ${server.uiUrl} (Ctrl-C to stop)\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void server.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  program
    .command('worker')
    .description('run a day2 worker: executes the workflows and their activities; drains on SIGTERM')
    .option(
      '--host <name>',
      "serve the activities of this host's deployments (day2.yaml `host:`) on its own task queue; the workflows run on the control worker",
    )
    .option('--with-workflows', 'with --host: also run the workflows (the control queue) in this process')
    .option('--with-approver', 'also run the automated approver (`day2 approver`) in this process')
    .option('--approver-interval <seconds>', "seconds between the approver's looks", (v) => Number(v), 5)
    .addHelpText(
      'after',
      "\nExample:\n  day2 worker --config /etc/day2/day2.yaml\n  day2 worker --with-approver\n  day2 worker --host eu-1    # on host eu-1: its deployments' activities",
    )
    .action(async (cmd: { withApprover?: boolean; approverInterval: number; host?: string; withWorkflows?: boolean }) => {
      const opts = program.opts<{ config?: string }>();
      void context;
      const file = configPath(opts.config);
      const config = loadConfig(file);
      const [{ startApprover }, { logApproverEvent }, { createLogger }, { runWorker }] = await Promise.all([
        import('../../approver/approver'),
        import('../../approver/format-event'),
        import('../../logger'),
        import('../../worker'),
      ]);
      // Beside the worker, the approver logs its decisions as JSON lines like the worker does.
      const approver = cmd.withApprover
        ? await startApprover(config, {
            intervalSeconds: cmd.approverInterval,
            onEvent: logApproverEvent(createLogger('day2-approver', processSettings().logLevel)),
          })
        : undefined;
      try {
        await runWorker(config, file, { host: cmd.host, workflows: cmd.withWorkflows });
      } finally {
        await approver?.stop();
      }
    });
}

/** `day2 dev --persistence postgres`: src/temporal-postgres.ts, until Ctrl-C. */
async function runPostgresServer(cliPath: string, port: number, dataDir: string): Promise<void> {
  const { startTemporalPostgres } = await import('../../temporal-postgres');
  const server = await startTemporalPostgres({ dir: dataDir, cliPath, port, say: (line) => process.stderr.write(`day2 dev: ${line}\n`) });
  process.stdout.write(
    `Temporal server on PostgreSQL at ${server.address} (namespace ${server.namespace}; data and server.log in ${dataDir}; Ctrl-C to stop)\n` +
      `point day2 at it: temporal.address: ${server.address} and httpAddress: ${server.httpAddress} in day2.yaml, or TEMPORAL_ADDRESS=${server.address} TEMPORAL_HTTP_ADDRESS=${server.httpAddress}\n` +
      'no Web UI with this server: `day2 dev` (SQLite) has one, or run temporalio/ui with TEMPORAL_ADDRESS set\n',
  );
  await new Promise<void>((resolve) => {
    const stop = () => void server.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
