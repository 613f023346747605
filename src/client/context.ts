// What every command needs: the config, a Temporal client (connected lazily, so `--help`
// and config errors never wait on the network), and links into the Web UI.
import { Client } from '@temporalio/client';
import { dataConverterOf, payloadCodecsOf } from '../codec/data-converter';
import { configPath, loadConfig, type Day2Config } from '../config';
import { connectClient } from '../temporal-connection';
import { TemporalHttpApi } from './temporal-http';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

export class CliContext {
  private clientPromise?: Promise<Client>;
  private httpApi?: TemporalHttpApi;
  readonly config: Day2Config;

  constructor(readonly options: GlobalOptions) {
    this.config = loadConfig(configPath(options.config));
  }

  client(): Promise<Client> {
    this.clientPromise ??= connectClient(this.config).then(
      (connection) => new Client({ connection, namespace: this.config.temporal.namespace, dataConverter: dataConverterOf(this.config) }),
    );
    return this.clientPromise;
  }

  /** Temporal's HTTP API, when temporal.httpAddress names it: no SDK to load. */
  http(): TemporalHttpApi | undefined {
    if (!this.config.temporal.httpAddress) return undefined;
    this.httpApi ??= new TemporalHttpApi(this.config, payloadCodecsOf(this.config));
    return this.httpApi;
  }

  uiLink(workflowId: string, runId?: string): string {
    const base = this.config.temporal.uiUrl.replace(/\/$/, '');
    const ns = encodeURIComponent(this.config.temporal.namespace);
    return `${base}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;
  }

  /** Where human lines go: stdout; none when quiet, and none with --json (which writes its
   * one document on stdout and nothing else, on either stream). */
  get humanStream(): NodeJS.WriteStream | undefined {
    if (this.options.quiet || this.options.json) return undefined;
    return process.stdout;
  }

  say(line: string): void {
    this.humanStream?.write(`${line}\n`);
  }

  /** Errors are printed even in quiet mode, on stderr; with --json they are in the
   * document instead. */
  warn(line: string): void {
    if (!this.options.json) process.stderr.write(`${line}\n`);
  }

  json(value: unknown): void {
    if (this.options.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  async close(): Promise<void> {
    this.httpApi?.close();
    if (this.clientPromise) await (await this.clientPromise).connection.close();
  }
}
