// The day2.yaml `day2 init` writes: every key it set, a comment saying where the value came
// from, and a TODO on what it could not know. Paths are relative to day2.yaml.
import YAML from 'yaml';

export interface InitAnswers {
  name: string;
  runtime:
    | {
        kind: 'compose';
        files: string[];
        apiService: string;
        workerService: string;
        migrateService: string;
        migrateCommand?: string[];
        databaseService?: string;
        databaseVia?: 'exec';
      }
    | { kind: 'commands'; start: string; stop: string; migrate?: string; pull?: string };
  envFile: string;
  versionVar?: string;
  databaseUrlVar: string;
  healthReady?: string;
  backupDir: string;
  /** Why each value is what it is (shown as comments), by key. */
  why: Record<string, string>;
  /** What is still missing or guessed (TODO comments, and printed). */
  todo: string[];
}

const value = (v: unknown) => YAML.stringify(v, { lineWidth: 0, collectionStyle: 'flow' }).trim();

export function renderConfig(a: InitAnswers, when: Date): string {
  const line = (indent: number, key: string, v: unknown, why = a.why[key]) =>
    `${' '.repeat(indent)}${key}: ${value(v)}${why ? `   # ${why}` : ''}`;
  const out = [
    `# day2.yaml, written by \`day2 init\` on ${when.toISOString().slice(0, 10)}.`,
    '# Every key, its type and default: docs/config.md (or `day2 config schema`); `day2 config check` validates this file.',
    ...(a.todo.length ? ['#', '# Still to do:', ...a.todo.map((t) => `#   TODO ${t}`)] : []),
    '',
    'temporal:',
    line(2, 'address', '127.0.0.1:7233', '`day2 dev` serves a local Temporal here; point it at your cluster in production'),
    line(
      2,
      'httpAddress',
      'http://127.0.0.1:7243',
      "the same server's HTTP API: `day2 list` and starts skip loading gRPC; remove it if yours has none",
    ),
    line(2, 'taskQueue', 'day2'),
    '',
    'deployments:',
    `  ${a.name}:`,
    '    runtime:',
  ];
  const r = a.runtime;
  if (r.kind === 'compose') {
    out.push(
      line(6, 'kind', 'compose'),
      line(6, 'files', r.files),
      line(6, 'apiService', r.apiService),
      line(6, 'workerService', r.workerService),
      line(6, 'migrateService', r.migrateService),
      r.migrateCommand
        ? line(6, 'migrateCommand', r.migrateCommand)
        : '      # migrateCommand: [migrate]   # TODO: the argv that runs your migrations in migrateService (`docker compose run --rm`)',
      r.databaseService
        ? line(6, 'databaseService', r.databaseService)
        : '      # databaseService: postgres   # a bundled database service',
      ...(r.databaseVia ? [line(6, 'databaseVia', r.databaseVia)] : []),
    );
  } else {
    out.push(line(6, 'kind', 'commands'), line(6, 'start', r.start), line(6, 'stop', r.stop));
    out.push(
      r.migrate ? line(6, 'migrate', r.migrate) : "      # migrate: './migrate {version}'   # TODO: runs release {version}'s migrations",
    );
    out.push(
      r.pull ? line(6, 'pull', r.pull) : "      # pull: './fetch-release {version}'   # fetches release {version} before anything stops",
    );
  }
  out.push(
    line(4, 'envFile', a.envFile),
    a.versionVar
      ? line(4, 'versionVar', a.versionVar)
      : '    # versionVar: APP_VERSION   # TODO: the env-file variable holding the running release',
    line(4, 'databaseUrlVar', a.databaseUrlVar),
    '    health:',
    a.healthReady
      ? line(6, 'ready', a.healthReady, a.why.health)
      : '      ready: http://127.0.0.1:8080/health   # TODO: a URL that answers 2xx once the service is ready',
    '    backup:',
    line(6, 'dir', a.backupDir, 'dumps and their manifests'),
    line(6, 'keep', 7),
    '    # preflight: and verify: take sql, http, command and metric checks (docs/config.md)',
    '',
  );
  return out.join('\n');
}
