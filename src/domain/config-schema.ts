// The shape of day2.yaml. Pure zod: safe to import anywhere (no I/O).
import { z } from 'zod';
import { offsiteSchema } from './offsite';

const url = z.url({ message: 'expected a URL' });
const command = z.string().min(1, 'expected a shell command');

const sqlCheckSchema = z.strictObject({
  kind: z.literal('sql'),
  name: z.string(),
  query: z.string().min(1),
  /** Expected value of the first column of the first row, as text. */
  expect: z.string(),
});

/** A check run after a restore, before a gate is approved, or by preflight. */
export const checkSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    name: z.string(),
    url,
    expectStatus: z.number().int().default(200),
    /** Dotted JSON path → expected value (compared as JSON). */
    expectJson: z.record(z.string(), z.unknown()).optional(),
  }),
  sqlCheckSchema,
  z.strictObject({
    kind: z.literal('command'),
    name: z.string(),
    command,
    expectExitCode: z.number().int().default(0),
  }),
  z.strictObject({
    kind: z.literal('metric'),
    name: z.string(),
    url,
    metric: z.string().min(1),
    op: z.enum(['<', '<=', '>', '>=', '==']),
    value: z.number(),
  }),
]);
export type Check = z.infer<typeof checkSchema>;

/** `commands` runtime: each lifecycle action is a shell command; `{version}` is substituted. */
export const commandsRuntimeSchema = z.strictObject({
  kind: z.literal('commands'),
  cwd: z.string().optional(),
  start: command,
  stop: command,
  /** Stops only the background worker (before migrations). Defaults to `stop`. */
  stopWorker: command.optional(),
  pull: command.optional(),
  /** Exit 0 when release {version} is already present locally (pull fallback). */
  present: command.optional(),
  migrate: command.optional(),
  /** Re-hashes API keys under the new secret (secret rotation). */
  rehashKeys: command.optional(),
  /** Prints the running release, when neither env file nor version file knows it. */
  version: command.optional(),
  /** Prints the services' state (support bundle). */
  status: command.optional(),
  /** Service name → its log file, whose last lines go into a support bundle. */
  logFiles: z.record(z.string(), z.string()).default({}),
});

/** `compose` runtime: the runbooks' docker compose sequence. */
export const composeRuntimeSchema = z.strictObject({
  kind: z.literal('compose'),
  cwd: z.string().optional(),
  files: z.array(z.string()).default(['docker-compose.yml']),
  project: z.string().optional(),
  apiService: z.string().default('api'),
  workerService: z.string().default('worker'),
  /** Service that runs migrations with `run --rm` (the new image). */
  migrateService: z.string().default('api'),
  migrateCommand: z.array(z.string()).default(['migrate']),
  /** Bundled database service name; absent for an external database. */
  databaseService: z.string().optional(),
  registry: z.strictObject({ host: z.string(), usernameVar: z.string(), passwordVar: z.string() }).optional(),
  rehashCommand: z.array(z.string()).optional(),
  waitTimeoutSeconds: z.number().int().positive().default(120),
});

export const runtimeSchema = z.discriminatedUnion('kind', [commandsRuntimeSchema, composeRuntimeSchema]);
export type RuntimeConfig = z.infer<typeof runtimeSchema>;

export const gatePolicySchema = z.strictObject({
  /** auto: approve on pass, reject on failure; auto-approve-only: approve on pass, else leave
   * to a person; manual: the approver never decides. */
  policy: z.enum(['auto', 'auto-approve-only', 'manual']).default('manual'),
  checks: z.array(checkSchema).default([]),
  /** Checks must pass this many times in a row… */
  stableRuns: z.number().int().positive().default(1),
  /** …spaced this many seconds apart. */
  stableIntervalSeconds: z.number().nonnegative().default(2),
  timeoutSeconds: z.number().positive().optional(),
});
export type GatePolicy = z.infer<typeof gatePolicySchema>;

/** A request header of a health probe: a literal (never a secret) or, for a token, the
 * name of the env-file variable that holds it (`prefix` goes before it, e.g. `Bearer `). */
const healthHeaderValueSchema = z.union([
  z.string(),
  z.strictObject({
    fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an env-file variable name'),
    prefix: z.string().default(''),
  }),
]);
export type HealthHeaderValue = z.infer<typeof healthHeaderValueSchema>;

/** What a health endpoint must answer, beyond answering: the http check's `expectStatus`
 * and `expectJson`, a content type, and the request headers to send. */
export const healthProbeSchema = z.strictObject({
  /** Exact status; absent: any 2xx. */
  expectStatus: z.number().int().min(100).max(599).optional(),
  /** e.g. `application/json`; parameters such as charset are ignored. */
  expectContentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'expected a media type such as application/json').optional(),
  /** Dotted JSON path → expected value (compared as JSON), e.g. `{ status: ok }`. */
  expectJson: z.record(z.string(), z.unknown()).optional(),
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'), healthHeaderValueSchema).default({}),
});
export type HealthProbe = z.infer<typeof healthProbeSchema>;

export const deploymentSchema = z.strictObject({
  runtime: runtimeSchema,
  envFile: z.string(),
  versionFile: z.string().optional(),
  versionVar: z.string().default('APP_VERSION'),
  databaseUrlVar: z.string().default('DATABASE_URL'),
  migrationUrlVar: z.string().default('DATABASE_URL_MIGRATE'),
  /** Variables that newer releases reject: commented out on upgrade. */
  deprecatedVars: z.array(z.string()).default([]),
  health: z
    .strictObject({
      live: url.optional(),
      /** Polled until it answers 2xx, or until it matches `readyCheck` when that is set. */
      ready: url,
      readyCheck: healthProbeSchema.optional(),
      version: url.optional(),
      /** What the version endpoint must answer (it must be JSON in any case). */
      versionCheck: healthProbeSchema.optional(),
      /** Field of the version endpoint's JSON that holds the version. */
      versionField: z.string().default('version'),
      timeoutSeconds: z.number().positive().default(30),
    })
    .refine((h) => !h.versionCheck || h.version, { message: 'versionCheck needs version (the endpoint to ask)', path: ['versionCheck'] }),
  backup: z.strictObject({
    dir: z.string(),
    keep: z.number().int().positive().default(7),
    /** Also keep every backup younger than this many days (the runbooks' RETENTION_DAYS):
     * a backup is deleted only when it is both outside the newest `keep` and older than
     * this. Unset: `keep` alone decides. */
    keepDays: z.number().positive().optional(),
    /** Preflight warns once restores have kept more copies of replaced data than this. */
    warnKeptCopies: z.number().int().nonnegative().default(3),
    /** A copy of every verified backup in an S3-compatible bucket (src/domain/offsite.ts). */
    offsite: offsiteSchema.optional(),
  }),
  /** The staging restore: `pg_restore -j jobs` (default: the worker's core count). */
  restore: z
    .strictObject({
      jobs: z.number().int().positive().optional(),
    })
    .default({}),
  /** Checks run after a restore (and a rollback). */
  verify: z.array(checkSchema).default([]),
  /** Checks of `day2 preflight` and of the upgrade's preflight step. */
  preflight: z.array(checkSchema).default([]),
  /** What `day2 drill` checks in the scratch copy of a backup, beyond every table being back. */
  drill: z
    .strictObject({
      minTables: z.number().int().positive().optional(),
      /** Tables (`name` or `schema.name`) that must have rows. */
      requireRows: z.array(z.string()).default([]),
      /** Run against the restored copy: SQL only (the service is not running there). */
      checks: z.array(sqlCheckSchema).default([]),
    })
    .default({ requireRows: [], checks: [] }),
  /** Env file with every required variable (preflight compares against it). */
  envExample: z.string().optional(),
  upgrade: z
    .strictObject({ autoRollback: z.boolean().default(false) })
    .default({ autoRollback: false }),
  secrets: z
    .strictObject({
      apiKeySecretVar: z.string().default('API_KEY_SECRET'),
      apiKeySecretPreviousVar: z.string().default('API_KEY_SECRET_PREVIOUS'),
      signingKeyVar: z.string().default('VAULT_SIGNING_KEY'),
      /** How the Ed25519 private key is written: base64 of PKCS#8 DER, or PEM on one line. */
      signingKeyFormat: z.enum(['pkcs8-der-base64', 'pem']).default('pkcs8-der-base64'),
    })
    .default({
      apiKeySecretVar: 'API_KEY_SECRET',
      apiKeySecretPreviousVar: 'API_KEY_SECRET_PREVIOUS',
      signingKeyVar: 'VAULT_SIGNING_KEY',
      signingKeyFormat: 'pkcs8-der-base64',
    }),
  /** `day2 support-bundle`: where bundles go (default: `support-bundles` beside the env
   * file) and how many of each service's last log lines they hold. */
  supportBundle: z
    .strictObject({ dir: z.string().optional(), logLines: z.number().int().positive().default(1000) })
    .default({ logLines: 1000 }),
  /** Where backups and DR drills report how they ended (the runbooks' webhook). The URL
   * often embeds a token, so it may instead be read from an env-file variable. */
  notify: z
    .strictObject({
      webhookUrl: url.optional(),
      /** Name of the env-file variable holding the webhook URL. */
      webhookUrlVar: z.string().optional(),
      /** `skipped`: a scheduled run found another operation holding the deployment. */
      on: z.array(z.enum(['succeeded', 'failed', 'skipped'])).default(['succeeded', 'failed', 'skipped']),
    })
    .refine((n) => !(n.webhookUrl && n.webhookUrlVar), { message: 'set at most one of webhookUrl and webhookUrlVar' })
    .default({ on: ['succeeded', 'failed', 'skipped'] }),
  /** Gate name → how the automated approver treats it. */
  gates: z.record(z.string(), gatePolicySchema).default({}),
});
export type DeploymentConfig = z.infer<typeof deploymentSchema>;

export const temporalConnectionSchema = z.strictObject({
  address: z.string().default('127.0.0.1:7233'),
  namespace: z.string().default('default'),
  taskQueue: z.string().default('day2'),
  /** Base URL of the Web UI, for links. */
  uiUrl: z.string().default('http://127.0.0.1:8233'),
  tls: z
    .strictObject({
      serverName: z.string().optional(),
      caFile: z.string().optional(),
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
    })
    .optional(),
  /** Name of the env var holding a Temporal Cloud API key. */
  apiKeyEnv: z.string().optional(),
  /** Encrypt every payload (AES-256-GCM) before it reaches the server. The keyring comes
   * from a file or from an env var (its name here, never its value). */
  codec: z
    .strictObject({ keyFile: z.string().optional(), keyEnv: z.string().optional() })
    .refine((c) => Boolean(c.keyFile) !== Boolean(c.keyEnv), { message: 'set exactly one of keyFile or keyEnv' })
    .optional(),
});

export const day2ConfigSchema = z
  .strictObject({
    temporal: temporalConnectionSchema.default({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'day2',
      uiUrl: 'http://127.0.0.1:8233',
    }),
    deployments: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lower-case name'), deploymentSchema),
  });
export type Day2Config = z.infer<typeof day2ConfigSchema>;
