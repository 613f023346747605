// `npx tsx scripts/webui-screenshot.ts [out.png]`: day2 as a person sees it in the Temporal
// Web UI. Starts a dev server WITH the UI on free ports, a private PostgreSQL, the sample
// ledger service and a worker; takes a backup and starts a restore that waits at its
// confirmation gate; then opens the workflow's page in headless Chromium and saves a
// screenshot (default docs/webui.png) and the rendered DOM (beside it in .day2/webui/).
// test/e2e/webui.test.ts runs the same capture and checks what the page says.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { must, setUpLedgerDeployment } from '../examples/ledger-deployment';
import { loadConfig } from '../src/config';
import { startDevServer } from '../src/dev-server';
import { createWorker } from '../src/worker';
import { findChromium, withPage } from '../test/harness/chromium';
import { runCli } from '../test/harness/cli';
import { freePort } from '../test/harness/free-port';
import { startPostgres } from '../test/harness/postgres';
import { ensurePostgresTools, ensureTemporalCli } from './ensure-tools';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface WebUiCapture {
  workflowId: string;
  runId: string;
  /** The page that was opened. */
  url: string;
  png: string;
  dom: string;
  /** Expected text the page never showed (empty when it showed it all). */
  missing: string[];
  /** What the workflow's progress query said at capture time. */
  currentStep: string;
  gate: string;
}

export interface CaptureOptions {
  /** The workflow's current details (checklist, gate, approve command). */
  pngPath: string;
  /** The rendered DOM of that page, Markdown frame included. */
  domPath: string;
  /** Optional: the event history page too. */
  historyPngPath?: string;
  log?: (line: string) => void;
}

export async function captureWebUi(opts: CaptureOptions): Promise<WebUiCapture> {
  const t0 = Date.now();
  const log = (line: string) => opts.log?.(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
  await findChromium(); // fail first, and clearly, when the browser is missing
  const cliPath = await ensureTemporalCli();
  ensurePostgresTools();
  process.env.DAY2_LOG_LEVEL ??= 'warn';
  const work = mkdtempSync(path.join(os.tmpdir(), 'day2-webui-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const server = await startDevServer({
      cliPath,
      dbFile: path.join(work, 'temporal.sqlite'),
      port: await freePort(),
      uiPort: await freePort(),
    });
    cleanups.push(() => server.stop());
    log(`dev server ${server.address}, Web UI ${server.uiUrl}`);
    const pg = await startPostgres();
    cleanups.push(() => pg.stop());
    const deployment = await setUpLedgerDeployment({
      dir: path.join(work, 'ledger'),
      databaseUrl: await pg.createDatabase(`webui_${process.pid}`),
      port: await freePort(),
      temporal: { address: server.address, taskQueue: 'day2-webui', uiUrl: server.uiUrl },
    });
    cleanups.push(() => deployment.ctl('stop'));
    await must(deployment.ctl('start'), 'start');
    await must(deployment.ctl('seed', '--entries', '10'), 'seed');
    log(`ledger service at ${deployment.baseUrl}`);
    const worker = await createWorker(loadConfig(deployment.configFile), deployment.configFile);
    const running = worker.run();
    cleanups.push(async () => {
      worker.shutdown();
      await running;
    });

    log('worker running');
    const backup = await runCli(deployment.configFile, ['--json', 'backup']);
    if (backup.exitCode !== 0) throw new Error(`backup failed: ${backup.stderr}`);
    const file = (JSON.parse(backup.stdout) as { result: { file: string } }).result.file;
    const restore = await runCli(deployment.configFile, ['--json', 'restore', file]);
    if (restore.exitCode !== 4) throw new Error(`restore did not pause at its gate (exit ${restore.exitCode}): ${restore.stderr}`);
    const waiting = JSON.parse(restore.stdout) as {
      workflowId: string;
      runId: string;
      webUi: string;
      progress: { gate: { name: string }; steps: Array<{ name: string; status: string }> };
    };
    const currentStep = waiting.progress.steps.find((s) => s.status === 'waiting')!.name;
    log(`restore ${waiting.workflowId} waits at gate '${waiting.progress.gate.name}'; opening ${waiting.webUi}`);

    mkdirSync(path.dirname(opts.pngPath), { recursive: true });
    mkdirSync(path.dirname(opts.domPath), { recursive: true });
    // The page is a JS app: wait until it shows the workflow, its step and its gate; then
    // a moment more, for the Markdown frame to size itself to its content.
    const expected = [waiting.workflowId, currentStep, waiting.progress.gate.name];
    const metadataPage = waiting.webUi.replace(/\/history$/, '/user-metadata');
    const { dom, missing } = await withPage(metadataPage, { width: 1440, height: 900 }, async (page) => {
      const missing = await page.waitForText(expected);
      await new Promise((r) => setTimeout(r, 1500));
      await page.screenshot(opts.pngPath);
      return { dom: await page.html(), missing };
    });
    writeFileSync(opts.domPath, dom);
    if (missing.length) log(`warning: the page never showed ${missing.map((m) => `'${m}'`).join(', ')}`);
    // The event history, whose activity summaries read like the runbook.
    if (opts.historyPngPath) {
      const historyPng = opts.historyPngPath;
      await withPage(waiting.webUi, { width: 1440, height: 1100 }, async (page) => {
        await page.waitForText(['verifyBackup', waiting.workflowId]);
        await new Promise((r) => setTimeout(r, 1000));
        await page.screenshot(historyPng);
      });
    }
    log(`captured in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return {
      workflowId: waiting.workflowId,
      runId: waiting.runId,
      url: metadataPage,
      png: opts.pngPath,
      dom,
      missing,
      currentStep,
      gate: waiting.progress.gate.name,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) {
  const pngPath = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'webui.png'));
  const historyPngPath = pngPath.replace(/\.png$/, '-history.png');
  const domPath = path.join(root, '.day2', 'webui', 'dom.html');
  captureWebUi({ pngPath, historyPngPath, domPath, log: (line) => console.log(line) })
    .then((c) => {
      console.log(
        `screenshots ${path.relative(root, c.png)} and ${path.relative(root, historyPngPath)}; DOM ${path.relative(root, domPath)}`,
      );
      if (c.missing.length) throw new Error(`the page never showed ${c.missing.join(', ')}`);
      process.exit(0);
    })
    .catch((err: Error) => {
      console.error(`webui-screenshot: ${err.message}`);
      process.exit(1);
    });
}
