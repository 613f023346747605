// The CLI's quick way to Temporal: the frontend's HTTP API (the same service as gRPC, as
// JSON over HTTP/1.1), for the calls a short-lived command makes and must make fast:
// `day2 list` and starting an operation. Loading the SDK's client (its protobuf
// definitions and gRPC) costs about 0.25 CPU-s before it sends a byte; node:http costs a
// few milliseconds. Used only where `temporal.httpAddress` names the API; everything else
// (following, queries, signals) stays on the SDK.
//
// Payloads are written exactly as the SDK's default converter writes them (json/plain,
// binary/null, Keyword search attributes) and go through the same payload codec, so a
// workflow started here is the same as one the SDK starts, and its results read the same.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { payloadFromJson, payloadToJson, type JsonPayload } from '../codec/payload-json';
import { temporalApiKey, type Day2Config } from '../config';
import { TemporalUnreachableError } from '../domain/errors';
import type { WorkflowRun } from './workflow-run';

/** Canonical protobuf JSON for payloads, not the API's default "shorthand" (which would
 * turn an encrypted payload into a base64 string nobody asked for). */
const MEDIA_TYPE = 'application/json+no-payload-shorthand';
const TIMEOUT_MS = 10_000;
/** historyEventFilterType=CLOSE_EVENT; the gateway reads enums in a query string as numbers. */
const CLOSE_EVENT_FILTER = 2;

/** Temporal refused the start: a workflow with that id is running. */
export class WorkflowRunningError extends Error {
  override readonly name = 'WorkflowRunning';
}

/** An error status from the API: the gRPC code and message it carries. */
export class TemporalHttpError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly grpcCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** One row of ListWorkflowExecutions, with its search attributes decoded. */
export interface ListedWorkflow extends WorkflowRun {
  searchAttributes: Record<string, unknown>;
}

export interface StartWorkflow {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  memo?: Record<string, unknown>;
  /** Keyword search attributes. */
  searchAttributes?: Record<string, string>;
  staticSummary?: string;
}

interface WireExecution {
  execution: { workflowId: string; runId: string };
  type: { name: string };
  status: string;
  startTime: string;
  closeTime?: string;
  searchAttributes?: { indexedFields?: Record<string, JsonPayload> };
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s));

/** The SDK's default converter: undefined as binary/null, everything else as json/plain. */
export function toPayload(value: unknown): Payload {
  if (value === undefined) return { metadata: { encoding: utf8('binary/null') }, data: new Uint8Array() };
  return { metadata: { encoding: utf8('json/plain') }, data: utf8(JSON.stringify(value)) };
}

/** A Keyword search attribute: the converter's payload, typed for the server's index. */
function keywordPayload(value: string): Payload {
  const payload = toPayload(value);
  return { ...payload, metadata: { ...payload.metadata, type: utf8('Keyword') } };
}

export function fromPayload(payload: Payload): unknown {
  const encoding = Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString();
  if (encoding === 'binary/null') return undefined;
  if (encoding !== 'json/plain') throw new Error(`a payload in encoding '${encoding}', which day2 does not write`);
  return JSON.parse(Buffer.from(payload.data ?? new Uint8Array()).toString('utf8'));
}

export class TemporalHttpApi {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly apiKey?: string;

  constructor(
    private readonly config: Day2Config,
    private readonly codecs: PayloadCodec[],
  ) {
    const { httpAddress, tls } = config.temporal;
    this.base = new URL(httpAddress!);
    this.apiKey = temporalApiKey(config);
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: tls?.caFile ? readFileSync(tls.caFile) : undefined,
            cert: tls?.certFile ? readFileSync(tls.certFile) : undefined,
            key: tls?.keyFile ? readFileSync(tls.keyFile) : undefined,
            servername: tls?.serverName,
          })
        : new http.Agent({ keepAlive: true });
  }

  private get namespacePath() {
    return `/api/v1/namespaces/${encodeURIComponent(this.config.temporal.namespace)}`;
  }

  /** Workflows matching a visibility query, newest first, at most `limit`. */
  async listWorkflows(query: string, limit: number): Promise<ListedWorkflow[]> {
    const rows: ListedWorkflow[] = [];
    let pageToken: string | undefined;
    do {
      const params = new URLSearchParams({ query, pageSize: String(Math.min(limit - rows.length, 1000)) });
      if (pageToken) params.set('nextPageToken', pageToken);
      const page = (await this.call('GET', `${this.namespacePath}/workflows?${params}`)) as {
        executions?: WireExecution[];
        nextPageToken?: string;
      };
      for (const wf of page.executions ?? []) if (rows.length < limit) rows.push(listed(wf));
      pageToken = page.nextPageToken || undefined;
    } while (pageToken && rows.length < limit);
    return rows;
  }

  /** The result of a COMPLETED run (read from its close event), decoded. */
  async result(workflowId: string, runId: string): Promise<unknown> {
    const params = new URLSearchParams({ 'execution.runId': runId, historyEventFilterType: String(CLOSE_EVENT_FILTER) });
    const res = (await this.call('GET', `${this.namespacePath}/workflows/${encodeURIComponent(workflowId)}/history?${params}`)) as {
      history?: { events?: Array<{ workflowExecutionCompletedEventAttributes?: { result?: { payloads?: JsonPayload[] } } }> };
    };
    const completed = res.history?.events?.[0]?.workflowExecutionCompletedEventAttributes;
    if (!completed) throw new Error(`${workflowId} (run ${runId}) has not completed`);
    const payload = completed.result?.payloads?.[0];
    return payload ? fromPayload(await this.decode(payloadFromJson(payload))) : undefined;
  }

  /** Starts a workflow; its run id. A running workflow of the same id: WorkflowRunningError. */
  async startWorkflow(req: StartWorkflow): Promise<string> {
    const body = {
      namespace: this.config.temporal.namespace,
      workflowId: req.workflowId,
      workflowType: { name: req.workflowType },
      taskQueue: { name: req.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
      input: { payloads: await this.encode(req.args.map(toPayload)) },
      identity: `${process.pid}@${os.hostname()}`,
      requestId: randomUUID(),
      ...(req.memo ? { memo: { fields: await this.encodeMap(req.memo) } } : {}),
      ...(req.searchAttributes
        ? {
            searchAttributes: {
              indexedFields: Object.fromEntries(
                Object.entries(req.searchAttributes).map(([k, v]) => [k, payloadToJson(keywordPayload(v))]),
              ),
            },
          }
        : {}),
      ...(req.staticSummary ? { userMetadata: { summary: (await this.encode([toPayload(req.staticSummary)]))[0] } } : {}),
    };
    try {
      const res = (await this.call('POST', `${this.namespacePath}/workflows/${encodeURIComponent(req.workflowId)}`, body)) as {
        runId: string;
      };
      return res.runId;
    } catch (err) {
      // ALREADY_EXISTS: the id is taken by a running workflow (the default conflict policy).
      if (err instanceof TemporalHttpError && err.grpcCode === 6) throw new WorkflowRunningError(err.message);
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private async encode(payloads: Payload[]): Promise<JsonPayload[]> {
    let out = payloads;
    for (const codec of this.codecs) out = await codec.encode(out);
    return out.map(payloadToJson);
  }

  private async encodeMap(map: Record<string, unknown>): Promise<Record<string, JsonPayload>> {
    const keys = Object.keys(map);
    const encoded = await this.encode(keys.map((k) => toPayload(map[k])));
    return Object.fromEntries(keys.map((k, i) => [k, encoded[i]!]));
  }

  private async decode(payload: Payload): Promise<Payload> {
    let out = [payload];
    for (const codec of [...this.codecs].reverse()) out = await codec.decode(out);
    return out[0]!;
  }

  private call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, this.base);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: MEDIA_TYPE };
    if (data !== undefined) Object.assign(headers, { 'content-type': MEDIA_TYPE, 'content-length': String(Buffer.byteLength(data)) });
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, agent: this.agent, timeout: TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            reject(
              new TemporalHttpError(
                res.statusCode ?? 0,
                undefined,
                `${this.base.origin} answered ${res.statusCode} with no JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          if (res.statusCode && res.statusCode < 300) resolve(json);
          else {
            const { code, message } = json as { code?: number; message?: string };
            reject(new TemporalHttpError(res.statusCode ?? 0, code, message ?? `HTTP ${res.statusCode}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) =>
        reject(
          new TemporalUnreachableError(
            `cannot reach Temporal's HTTP API at ${this.base.origin}: ${err.message} — temporal.httpAddress (or $TEMPORAL_HTTP_ADDRESS) ` +
              `must name the frontend's HTTP port (7243 for \`day2 dev\`); remove it to use gRPC only`,
          ),
        ),
      );
      req.end(data);
    });
  }
}

/** The SDK's name for a wire status (WORKFLOW_EXECUTION_STATUS_CANCELED is its CANCELLED). */
export function statusName(wire: string): string {
  const name = wire.replace(/^WORKFLOW_EXECUTION_STATUS_/, '');
  return name === 'CANCELED' ? 'CANCELLED' : name;
}

function listed(wf: WireExecution): ListedWorkflow {
  const searchAttributes: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(wf.searchAttributes?.indexedFields ?? {})) searchAttributes[k] = fromPayload(payloadFromJson(p));
  return {
    workflowId: wf.execution.workflowId,
    runId: wf.execution.runId,
    type: wf.type.name,
    status: statusName(wf.status),
    startTime: new Date(wf.startTime),
    closeTime: wf.closeTime ? new Date(wf.closeTime) : undefined,
    searchAttributes,
  };
}
