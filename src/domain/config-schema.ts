// The shape of day2.yaml. Pure zod: safe to import anywhere (no I/O).
import { z } from 'zod';
import { DEFAULT_HOST_WAIT_SECONDS } from './hosts';
import { offsiteSchema } from './offsite';
import { pgbackrestSchema } from './pgbackrest';
import { COMPRESSION_HINT, COMPRESSION_PATTERN } from './dump-compression';

const url = z.url({ message: 'expected a URL' });
const command = z.string().min(1, 'expected a shell command');

const sqlCheckSchema = z.strictObject({
  kind: z.literal('sql'),
  name: z.string().describe('Shown in progress, results and the Web UI.'),
  query: z.string().min(1).describe('SQL run against the live database; the first column of the first row is compared.'),
  expect: z.string().describe('Expected value of the first column of the first row, as text.'),
});

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

/** The headers of a request: name → literal or env-file variable. */
const headersSchema = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name'), healthHeaderValueSchema);

/** An http check of an asynchronous job: the first answer names the job, polled until done. */
const pollSchema = z.strictObject({
  urlField: z
    .string()
    .min(1)
    .describe(
      'Dotted JSON path of the first answer holding the URL to poll (absolute, or relative to `url`; same origin only, since the headers go there too).',
    ),
  until: z
    .record(z.string(), z.unknown())
    .describe('Dotted JSON path → value the polled answer must hold when the job is done, e.g. `{ status: completed }`.'),
  failWhen: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Dotted JSON path → value meaning the job failed: the check fails at once, e.g. `{ status: failed }`.'),
  everySeconds: z.number().positive().default(2).describe('Seconds between polls.'),
  timeoutSeconds: z.number().positive().default(300).describe('How long the job may take before the check fails.'),
});

/** A check run after a restore, before a gate is approved, or by preflight. */
export const checkSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    name: z.string().describe('Shown in progress, results and the Web UI.'),
    url: url.describe("The request's URL."),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).optional().describe('HTTP method (default GET).'),
    headers: headersSchema
      .optional()
      .describe(
        'Request headers: a literal (never a secret), or `{ fromEnv: VAR, prefix: "Bearer " }` for a value from the env file (it never reaches history or logs).',
      ),
    body: z
      .union([z.string(), z.record(z.string(), z.unknown())])
      .optional()
      .describe('Request body: text as it is, or an object sent as JSON (content-type application/json unless a header says otherwise).'),
    expectStatus: z.number().int().default(200).describe('Status that counts as a pass.'),
    expectJson: z.record(z.string(), z.unknown()).optional().describe('Dotted JSON path → expected value (compared as JSON).'),
    poll: pollSchema.optional().describe('For an asynchronous job: after the answer passed, poll the URL it names until the job is done.'),
  }),
  sqlCheckSchema,
  z.strictObject({
    kind: z.literal('command'),
    name: z.string().describe('Shown in progress, results and the Web UI.'),
    command: command.describe('Shell command; exit code decides.'),
    expectExitCode: z.number().int().default(0).describe('Exit code that counts as a pass.'),
    timeoutSeconds: z
      .number()
      .positive()
      .max(6 * 3600)
      .optional()
      .describe('How long the command may run before the check fails (default 60).'),
  }),
  z.strictObject({
    kind: z.literal('metric'),
    name: z.string().describe('Shown in progress, results and the Web UI.'),
    url: url.describe('Prometheus text endpoint.'),
    metric: z.string().min(1).describe('Prometheus metric name (with labels, e.g. `http_requests_total{code="500"}`) read from `url`.'),
    op: z.enum(['<', '<=', '>', '>=', '==']).describe("How the metric's value compares with `value`."),
    value: z.number().describe('Number the metric is compared with.'),
  }),
]);
export type Check = z.infer<typeof checkSchema>;

/** `commands` runtime: each lifecycle action is a shell command; `{version}` is substituted. */
export const commandsRuntimeSchema = z.strictObject({
  kind: z.literal('commands'),
  cwd: z.string().optional().describe("Directory the commands run in, relative to day2.yaml (default: day2.yaml's)."),
  start: command.describe('Starts the service at release {version}.'),
  stop: command.describe('Stops the service (API and worker).'),
  stopWorker: command.optional().describe('Stops only the background worker (before migrations). Defaults to `stop`.'),
  pull: command.optional().describe('Fetches release {version} (image, package) before anything stops.'),
  present: command.optional().describe('Exit 0 when release {version} is already present locally (pull fallback).'),
  migrate: command.optional().describe('Runs the migrations of release {version}.'),
  rehashKeys: command.optional().describe('Re-hashes API keys under the new secret (secret rotation).'),
  version: command.optional().describe('Prints the running release, when neither env file nor version file knows it.'),
  status: command.optional().describe("Prints the services' state (support bundle)."),
  logFiles: z
    .record(z.string(), z.string())
    .default({})
    .describe('Service name → its log file, whose last lines go into a support bundle.'),
});

/** `compose` runtime: the runbooks' docker compose sequence. */
export const composeRuntimeSchema = z
  .strictObject({
    kind: z.literal('compose'),
    cwd: z.string().optional().describe("Directory docker compose runs in, relative to day2.yaml (default: day2.yaml's)."),
    files: z.array(z.string()).default(['docker-compose.yml']).describe('Compose files (`docker compose -f …`), relative to `cwd`.'),
    project: z.string().optional().describe("Compose project name (`-p`); default: compose's own (the directory name)."),
    apiService: z.string().default('api').describe('API service: started and stopped, and runs rehashCommand.'),
    workerService: z.string().default('worker').describe('Background worker service, stopped before migrations.'),
    migrateService: z.string().default('api').describe('Service that runs migrations with `run --rm` (the new image).'),
    migrateCommand: z.array(z.string()).default(['migrate']).describe('Command (argv) given to `run --rm migrateService`.'),
    databaseService: z.string().optional().describe('Bundled database service name; absent for an external database.'),
    databaseVia: z
      .enum(['url', 'exec'])
      .default('url')
      .describe(
        "How day2 reaches the database. url: from the worker's host, with the env file's URL (an external database, or a bundled one whose port is published). exec: the bundled `databaseService` is reached inside compose: pg_dump, pg_restore and psql run in it (`docker compose exec -T`), the archive streamed through their stdout and stdin, and day2's own SQL connects to the container's address on its compose network (Linux Docker hosts; not Docker Desktop).",
      ),
    registry: z
      .strictObject({ host: z.string(), usernameVar: z.string(), passwordVar: z.string() })
      .optional()
      .describe('`docker login` before pulling: the registry host and the env-file variables holding its username and password.'),
    rehashCommand: z
      .array(z.string())
      .optional()
      .describe('Command (argv) run with `run --rm apiService` to re-hash API keys (secret rotation).'),
    waitTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .default(120)
      .describe('`up -d --wait --wait-timeout`: how long the services may take to be healthy.'),
  })
  .refine((r) => r.databaseVia !== 'exec' || r.databaseService, {
    message:
      "'exec' runs the PostgreSQL tools inside the compose service named by databaseService, and no databaseService is set: name the database service, or use databaseVia: url",
    path: ['databaseVia'],
  });

export const runtimeSchema = z.discriminatedUnion('kind', [commandsRuntimeSchema, composeRuntimeSchema]);
export type RuntimeConfig = z.infer<typeof runtimeSchema>;

export const gatePolicySchema = z.strictObject({
  policy: z
    .enum(['auto', 'auto-approve-only', 'manual'])
    .default('manual')
    .describe(
      'auto: approve on pass, reject on failure; auto-approve-only: approve on pass, else leave to a person; manual: the approver never decides.',
    ),
  checks: z.array(checkSchema).default([]).describe('Checks the automated approver runs before deciding.'),
  stableRuns: z.number().int().positive().default(1).describe('Checks must pass this many times in a row…'),
  stableIntervalSeconds: z.number().nonnegative().default(2).describe('…spaced this many seconds apart.'),
  timeoutSeconds: z.number().positive().optional().describe('How long the gate waits for a decision before its default outcome.'),
});
export type GatePolicy = z.infer<typeof gatePolicySchema>;

/** What a health endpoint must answer, beyond answering: the http check's `expectStatus`
 * and `expectJson`, a content type, and the request headers to send. */
export const healthProbeSchema = z.strictObject({
  expectStatus: z.number().int().min(100).max(599).optional().describe('Exact status; absent: any 2xx.'),
  expectContentType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'expected a media type such as application/json')
    .optional()
    .describe('e.g. `application/json`; parameters such as charset are ignored.'),
  expectJson: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Dotted JSON path → expected value (compared as JSON), e.g. `{ status: ok }`.'),
  headers: headersSchema.default({}),
});
export type HealthProbe = z.infer<typeof healthProbeSchema>;

export const deploymentSchema = z.strictObject({
  runtime: runtimeSchema.describe(
    'How the service is stopped, started, pulled and migrated: `kind: commands` (shell commands) or `kind: compose` (docker compose).',
  ),
  host: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]*$/, 'expected a host name (lower-case letters, digits, dots, dashes)')
    .default('local')
    .describe(
      'The host the deployment runs on: its activities run on the task queue `<temporal.taskQueue>@<host>`, served by `day2 worker --host <host>` there. `local`: the default worker serves it.',
    ),
  labels: z
    .record(z.string(), z.string())
    .default({})
    .describe('Free-form key → value labels fleet operations select on (`day2 fleet … --selector tier=gold`).'),
  envFile: z
    .string()
    .describe(
      "The service's env file (KEY=value): day2 reads the database URL and secrets there and writes the release and rotated secrets; its values are never printed.",
    ),
  versionFile: z.string().optional().describe('File holding the running release, when the env file does not.'),
  versionVar: z.string().default('APP_VERSION').describe('Env-file variable holding the running release.'),
  databaseUrlVar: z.string().default('DATABASE_URL').describe('Env-file variable holding the database URL day2 dumps and restores.'),
  migrationUrlVar: z
    .string()
    .default('DATABASE_URL_MIGRATE')
    .describe(
      'Env-file variable holding the URL of the role that owns the database (migrations, restores, creating and dropping databases); unset: the database URL.',
    ),
  deprecatedVars: z.array(z.string()).default([]).describe('Variables that newer releases reject: commented out on upgrade.'),
  health: z
    .strictObject({
      live: url.optional().describe('Liveness endpoint (answers while the process runs).'),
      ready: url.describe('Polled until it answers 2xx, or until it matches `readyCheck` when that is set.'),
      readyCheck: healthProbeSchema.optional(),
      version: url.optional().describe('Endpoint whose JSON names the running release.'),
      versionCheck: healthProbeSchema.optional().describe('What the version endpoint must answer (it must be JSON in any case).'),
      versionField: z.string().default('version').describe("Field of the version endpoint's JSON that holds the version."),
      timeoutSeconds: z.number().positive().default(30).describe('How long to wait for `ready` after a start.'),
    })
    .refine((h) => !h.versionCheck || h.version, { message: 'versionCheck needs version (the endpoint to ask)', path: ['versionCheck'] })
    .describe("The service's health endpoints, asked after every start."),
  backup: z
    .strictObject({
      dir: z.string().describe('Where backups and their manifests are written, relative to day2.yaml.'),
      keep: z.number().int().positive().default(7).describe('Keep at least the newest this many backups.'),
      keepDays: z
        .number()
        .positive()
        .optional()
        .describe(
          "Also keep every backup younger than this many days (the runbooks' RETENTION_DAYS): a backup is deleted only when it is both outside the newest `keep` and older than this. Unset: `keep` alone decides.",
        ),
      warnKeptCopies: z
        .number()
        .int()
        .nonnegative()
        .default(3)
        .describe('Preflight warns once restores have kept more copies of replaced data than this.'),
      offsite: offsiteSchema.optional().describe('A copy of every verified backup in an S3-compatible bucket (src/domain/offsite.ts).'),
      method: z
        .enum(['pg_dump', 'pgbackrest'])
        .default('pg_dump')
        .describe(
          "pg_dump: logical dumps (any server day2 can log in to). pgbackrest: physical backups and WAL archiving with point-in-time recovery, for a server on the worker's host that day2 may configure (src/domain/pgbackrest.ts).",
        ),
      pgbackrest: pgbackrestSchema.optional(),
      format: z
        .enum(['custom', 'directory'])
        .default('custom')
        .describe(
          'pg_dump method only. custom: `pg_dump -Fc`, one process. directory: `pg_dump -Fd -j jobs`, the tables dumped in parallel (for big databases, when the dump takes too long), then packed into one uncompressed tar kept under the same name; restores unpack it beside the backups and run `pg_restore -j`. Needs room for the dump twice while it is packed.',
        ),
      jobs: z
        .number()
        .int()
        .positive()
        .optional()
        .describe(
          "Parallel pg_dump jobs (`-j`), format directory only; each holds a database connection. Default: the worker's core count.",
        ),
      compression: z
        .union([z.number().int().min(0).max(9), z.string().regex(COMPRESSION_PATTERN, COMPRESSION_HINT)])
        .optional()
        .describe(
          "pg_dump's `-Z`: a gzip level 0..9 (0: none), `gzip[:1..9]`, `lz4[:1..12]` or `zstd[:1..22]` (lz4 and zstd need pg_dump 16 or newer; an older one is refused when the backup starts). Default: pg_dump's own (gzip).",
        ),
    })
    .refine((b) => b.method !== 'pgbackrest' || b.pgbackrest, {
      message: 'method pgbackrest needs a pgbackrest block (stanza, repoPath, dataDir)',
      path: ['pgbackrest'],
    })
    .refine((b) => b.pgbackrest?.repo !== 'offsite' || b.offsite, {
      message: 'repo: offsite puts the repository in the backup.offsite bucket, and there is no backup.offsite',
      path: ['pgbackrest', 'repo'],
    })
    .refine((b) => b.pgbackrest?.repo !== 'offsite' || !b.offsite?.endpoint?.startsWith('http:'), {
      message: 'pgBackRest reaches S3 over TLS only: backup.offsite.endpoint must be an https URL (a private CA goes in s3CaFile)',
      path: ['pgbackrest', 'repo'],
    })
    .refine((b) => b.jobs === undefined || b.format === 'directory', {
      message: 'jobs needs format: directory (pg_dump -j works only with a directory-format dump)',
      path: ['jobs'],
    }),
  restore: z
    .strictObject({
      jobs: z.number().int().positive().optional().describe('Parallel jobs of the staging pg_restore.'),
    })
    .default({})
    .describe("The staging restore: `pg_restore -j jobs` (default: the worker's core count)."),
  verify: z.array(checkSchema).default([]).describe('Checks run after a restore (and a rollback).'),
  preflight: z.array(checkSchema).default([]).describe("Checks of `day2 preflight` and of the upgrade's preflight step."),
  drill: z
    .strictObject({
      minTables: z.number().int().positive().optional().describe('The restored copy must hold at least this many tables.'),
      /** Tables (`name` or `schema.name`) that must have rows. */
      requireRows: z.array(z.string()).default([]),
      /** Run against the restored copy: SQL only (the service is not running there). */
      checks: z.array(sqlCheckSchema).default([]),
    })
    .default({ requireRows: [], checks: [] })
    .describe('What `day2 drill` checks in the scratch copy of a backup, beyond every table being back.'),
  envExample: z.string().optional().describe('Env file with every required variable (preflight compares against it).'),
  upgrade: z
    .strictObject({
      autoRollback: z
        .boolean()
        .default(false)
        .describe('Roll a failed upgrade back without asking (otherwise the rollback-failed-upgrade gate asks).'),
    })
    .default({ autoRollback: false })
    .describe('How an upgrade that fails after it changed something ends.'),
  secrets: z
    .strictObject({
      apiKeySecretVar: z.string().default('API_KEY_SECRET').describe('Env-file variable holding the API-key hashing secret.'),
      apiKeySecretPreviousVar: z
        .string()
        .default('API_KEY_SECRET_PREVIOUS')
        .describe('Env-file variable holding the previous secret during a rotation.'),
      signingKeyVar: z.string().default('VAULT_SIGNING_KEY').describe('Env-file variable holding the Ed25519 signing key.'),
      signingKeyFormat: z
        .enum(['pkcs8-der-base64', 'pem'])
        .default('pkcs8-der-base64')
        .describe('How the Ed25519 private key is written: base64 of PKCS#8 DER, or PEM on one line.'),
    })
    .default({
      apiKeySecretVar: 'API_KEY_SECRET',
      apiKeySecretPreviousVar: 'API_KEY_SECRET_PREVIOUS',
      signingKeyVar: 'VAULT_SIGNING_KEY',
      signingKeyFormat: 'pkcs8-der-base64',
    })
    .describe('Names of the env-file variables holding the secrets `day2 rotate` rotates (never their values).'),
  supportBundle: z
    .strictObject({ dir: z.string().optional(), logLines: z.number().int().positive().default(1000) })
    .default({ logLines: 1000 })
    .describe(
      "`day2 support-bundle`: where bundles go (default: `support-bundles` beside the env file) and how many of each service's last log lines they hold.",
    ),
  notify: z
    .strictObject({
      webhookUrl: url.optional(),
      /** Name of the env-file variable holding the webhook URL. */
      webhookUrlVar: z.string().optional(),
      /** `skipped`: a scheduled run found another operation holding the deployment. */
      on: z.array(z.enum(['succeeded', 'failed', 'skipped'])).default(['succeeded', 'failed', 'skipped']),
    })
    .refine((n) => !(n.webhookUrl && n.webhookUrlVar), { message: 'set at most one of webhookUrl and webhookUrlVar' })
    .default({ on: ['succeeded', 'failed', 'skipped'] })
    .describe(
      "Where backups and DR drills report how they ended (the runbooks' webhook). The URL often embeds a token, so it may instead be read from an env-file variable.",
    ),
  gates: z.record(z.string(), gatePolicySchema).default({}).describe('Gate name → how the automated approver treats it.'),
});
export type DeploymentConfig = z.infer<typeof deploymentSchema>;

export const temporalConnectionSchema = z.strictObject({
  address: z.string().default('127.0.0.1:7233').describe('Temporal frontend host:port ($TEMPORAL_ADDRESS overrides).'),
  namespace: z.string().default('default').describe('Temporal namespace ($TEMPORAL_NAMESPACE overrides).'),
  taskQueue: z.string().default('day2').describe('Task queue of the day2 worker ($DAY2_TASK_QUEUE overrides).'),
  uiUrl: z.string().default('http://127.0.0.1:8233').describe('Base URL of the Web UI, for links.'),
  httpAddress: url
    .optional()
    .describe(
      "Base URL of the frontend's HTTP API (`http://127.0.0.1:7243` for `day2 dev`; $TEMPORAL_HTTP_ADDRESS overrides). `day2 list` and detached starts use it instead of gRPC and start in a fraction of the time. Absent: gRPC only.",
    ),
  hostWorkerWaitSeconds: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_HOST_WAIT_SECONDS)
    .describe(
      "How long a step of a deployment on another host may wait for that host's worker to pick it up before `progress` and the Web UI say that none did (the step goes on waiting).",
    ),
  tls: z
    .strictObject({
      serverName: z.string().optional().describe('TLS server name, when it differs from the address.'),
      caFile: z.string().optional().describe('CA certificate (PEM) of the server.'),
      certFile: z.string().optional().describe('Client certificate (PEM), for mTLS.'),
      keyFile: z.string().optional().describe('Client key (PEM), for mTLS.'),
    })
    .optional()
    .describe('TLS to the Temporal server (files relative to day2.yaml); absent: plaintext.'),
  apiKeyEnv: z.string().optional().describe('Name of the env var holding a Temporal Cloud API key.'),
  codec: z
    .strictObject({
      keyFile: z.string().optional().describe('Keyring file (JSON), relative to day2.yaml.'),
      keyEnv: z.string().optional().describe('Name of the env var holding the keyring.'),
    })
    .refine((c) => Boolean(c.keyFile) !== Boolean(c.keyEnv), { message: 'set exactly one of keyFile or keyEnv' })
    .optional()
    .describe(
      'Encrypt every payload (AES-256-GCM) before it reaches the server. The keyring comes from a file or from an env var (its name here, never its value).',
    ),
});

export const day2ConfigSchema = z.strictObject({
  temporal: temporalConnectionSchema
    .default({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'day2',
      uiUrl: 'http://127.0.0.1:8233',
      hostWorkerWaitSeconds: DEFAULT_HOST_WAIT_SECONDS,
    })
    .describe('The Temporal server the CLI and the worker connect to.'),
  fleet: z
    .strictObject({
      promote: z
        .strictObject({
          policy: z
            .enum(['auto', 'auto-approve-only', 'manual'])
            .default('manual')
            .describe(
              "How the automated approver decides a fleet's promote-fleet gate from the canaries (each succeeded, and passed its verify checks on its host): auto approves or rejects, auto-approve-only approves or leaves it to a person, manual leaves it to a person.",
            ),
        })
        .default({ policy: 'manual' }),
    })
    .default({ promote: { policy: 'manual' } })
    .describe('Fleet operations (`day2 fleet …`).'),
  deployments: z
    .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lower-case name'), deploymentSchema)
    .describe('Each deployment day2 operates, by name (used in workflow ids, backup names and --deployment).'),
});
export type Day2Config = z.infer<typeof day2ConfigSchema>;
