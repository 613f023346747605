// `day2 init`: writes a commented day2.yaml for a service — read off its compose file (the
// services, the bundled PostgreSQL, the env file, the published port and health check), or,
// for plain processes, from the commands given. On a terminal it asks for what it cannot
// tell; with flags (or from a script) it asks nothing. Then it validates the file and runs
// the built-in preflight checks in this process (no Temporal needed), saying what is missing.
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { BadInputError } from '../../domain/errors';
import { readEnvFile } from '../../envfile';
import { discoverCompose } from '../../init/compose-discovery';
import { renderConfig, type InitAnswers } from '../../init/render-config';
import { canAsk } from '../confirm';
import type { GlobalOptions } from '../context';

interface InitOptions {
  compose?: string;
  name?: string;
  env?: string;
  start?: string;
  stop?: string;
  migrate?: string;
  health?: string;
  backupDir: string;
  output: string;
  force?: boolean;
  check: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'write a commented day2.yaml for your service (from its compose file, or its start/stop commands), then run preflight on it',
    )
    .option('--compose <file>', 'the docker compose file (default: docker-compose.yml or compose.yaml here, if there is one)')
    .option('--name <name>', "the deployment's name (default: the directory's name)")
    // Not --env-file: Node 20 takes that option for itself wherever it appears on the command line.
    .option('--env <file>', "the service's env file (default: the compose API service's env_file, else .env)")
    .option('--start <command>', 'plain processes: the command that starts the service ({version} is the release)')
    .option('--stop <command>', 'plain processes: the command that stops it')
    .option('--migrate <command>', "plain processes: the command that runs release {version}'s migrations")
    .option('--health <url>', 'a URL that answers 2xx once the service is ready')
    .option('--backup-dir <dir>', 'where backups go, relative to day2.yaml', 'backups')
    .option('-o, --output <file>', 'the file to write', 'day2.yaml')
    .option('--force', 'overwrite an existing file')
    .option('--no-check', 'do not run the preflight checks afterwards')
    .addHelpText(
      'after',
      '\nExamples:\n  day2 init                                  # asks, on a terminal\n  day2 init --compose docker-compose.yml --name shop\n  day2 init --name api --start "./run.sh start" --stop "./run.sh stop" --health http://127.0.0.1:8080/health',
    )
    .action(async (opts: InitOptions) => {
      const global = program.opts<GlobalOptions>();
      const output = path.resolve(opts.output);
      if (existsSync(output) && !opts.force)
        throw new BadInputError(`${opts.output} exists`, 'pass --force to overwrite it, or -o to write another file; nothing was written');
      const answers = await collectAnswers(opts, path.dirname(output));
      writeFileSync(output, renderConfig(answers, new Date()), { mode: 0o644 });
      const say = (l: string) => (global.json || global.quiet ? undefined : process.stdout.write(`${l}\n`));
      say(`wrote ${opts.output} (deployment ${answers.name}, runtime ${answers.runtime.kind})`);
      const config = loadConfig(output); // what we wrote must validate: a failure here is a bug worth a loud error
      // Imported here: the activities' checks (and execa) are not every command's start-up cost.
      const { builtinPreflightChecks } = await import('../../activities/checks/preflight');
      const checks = opts.check ? await builtinPreflightChecks(config.deployments[answers.name]!, answers.name) : [];
      for (const c of checks) say(`  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
      const missing = [...answers.todo, ...checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)];
      if (missing.length) {
        say(`still missing (${missing.length}):`);
        for (const m of missing) say(`  - ${m}`);
      }
      say(`next: day2 dev & day2 worker, then day2 preflight and day2 backup (README: Your own service)`);
      if (global.json)
        process.stdout.write(`${JSON.stringify({ file: output, deployment: answers.name, todo: answers.todo, checks }, null, 2)}\n`);
    });
}

/** Flags first, then what the compose file says, then (on a terminal) the person. */
async function collectAnswers(opts: InitOptions, dir: string): Promise<InitAnswers> {
  const ask = canAsk() ? asker() : undefined;
  try {
    const why: Record<string, string> = {};
    const todo: string[] = [];
    const name = opts.name ?? (await ask?.('Deployment name', defaultName(dir))) ?? defaultName(dir);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name))
      throw new BadInputError(`'${name}' is not a deployment name`, 'use lower-case letters, digits, - and _');
    const composeFile =
      opts.compose ??
      (opts.start
        ? undefined
        : ['docker-compose.yml', 'docker-compose.yaml', 'compose.yaml', 'compose.yml'].find((f) => existsSync(path.join(dir, f))));
    const rel = (p: string) => path.relative(dir, path.resolve(p)) || '.';
    let runtime: InitAnswers['runtime'];
    let envFile = opts.env;
    let versionVar: string | undefined;
    let databasePublished = false;
    let healthReady = opts.health;
    if (composeFile) {
      const full = path.resolve(dir, composeFile);
      if (!existsSync(full)) throw new BadInputError(`compose file ${composeFile} not found`, 'pass --compose <file>');
      let found;
      try {
        found = discoverCompose(full);
      } catch (err) {
        throw new BadInputError(
          (err as Error).message,
          'pass the compose file of the service with --compose, or --start/--stop for plain processes',
        );
      }
      const composeDir = path.dirname(full);
      if (!found.apiService) throw new BadInputError(`${composeFile}: no application service besides the database`);
      runtime = {
        kind: 'compose',
        files: [rel(full)],
        apiService: found.apiService,
        workerService: found.workerService ?? found.apiService,
        migrateService: found.migrateService ?? found.apiService,
        databaseService: found.databaseService,
      };
      databasePublished = found.databasePublished ?? false;
      why.apiService = 'found in the compose file';
      if (found.workerService) why.workerService = 'found in the compose file';
      else why.workerService = 'no worker service found: the API is stopped before migrations instead';
      if (found.databaseService) why.databaseService = 'image is PostgreSQL';
      todo.push(
        `migrateCommand: the argv that runs migrations in ${runtime.migrateService} (docker compose run --rm ${runtime.migrateService} …)`,
      );
      envFile ??= found.envFile ? rel(path.join(composeDir, found.envFile)) : undefined;
      versionVar = found.versionVar;
      if (versionVar) why.versionVar = `the API image's tag is \${${versionVar}}`;
      if (!healthReady && found.healthUrl) {
        healthReady = found.healthUrl;
        why.health = found.notes.find((n) => n.startsWith('health:'))?.slice(8) ?? 'from the compose file';
      }
    } else {
      const start = opts.start ?? (await ask?.('Command that starts the service ({version} = release)'));
      const stop = opts.stop ?? (await ask?.('Command that stops it'));
      if (!start || !stop)
        throw new BadInputError(
          'no compose file here, and no --start/--stop commands',
          'pass --compose <file> for docker compose, or --start "<command>" --stop "<command>" for plain processes',
        );
      const migrate = opts.migrate ?? ((await ask?.("Command that runs release {version}'s migrations (empty: none)")) || undefined);
      runtime = { kind: 'commands', start, stop, migrate };
      if (!migrate) todo.push("migrate: the command that runs release {version}'s migrations (upgrades need it)");
    }
    envFile ??= (await ask?.('Env file of the service', '.env')) ?? '.env';
    healthReady ??= (await ask?.('URL that answers 2xx once the service is ready (empty: later)')) || undefined;
    if (!healthReady) todo.push('health.ready: a URL that answers 2xx once the service is ready');
    const env = existsSync(path.resolve(dir, envFile)) ? await readEnvFile(path.resolve(dir, envFile)) : undefined;
    if (!env) todo.push(`envFile: ${envFile} does not exist yet (day2 reads the database URL and the release from it)`);
    const databaseUrlVar = databaseVarOf(env) ?? 'DATABASE_URL';
    why.databaseUrlVar = env?.has(databaseUrlVar)
      ? `holds a postgres:// URL in ${envFile}`
      : 'TODO: the env-file variable holding the database URL';
    const dbHost = env?.get(databaseUrlVar) ? safeHost(env.get(databaseUrlVar)!) : undefined;
    // Dumps and restores use the migration URL when it is set: one on the host is enough.
    const ownerHost = env?.get('DATABASE_URL_MIGRATE') ? safeHost(env.get('DATABASE_URL_MIGRATE')!) : undefined;
    if (runtime.kind === 'compose' && runtime.databaseService && ownerHost && ownerHost !== runtime.databaseService)
      why.databaseUrlVar = `${why.databaseUrlVar}; day2 reaches the bundled database through DATABASE_URL_MIGRATE (${ownerHost})`;
    else if (runtime.kind === 'compose' && runtime.databaseService && dbHost === runtime.databaseService && !databasePublished) {
      // Nothing on the host reaches it: the PostgreSQL tools run inside the service.
      runtime.databaseVia = 'exec';
      why.databaseVia =
        `${databaseUrlVar} names the compose service '${dbHost}', which publishes no port: pg_dump, pg_restore and psql run inside it ` +
        `(docker compose exec -T), day2's own SQL goes to its container's address (Linux Docker hosts; README: Your own service)`;
    } else if (runtime.kind === 'compose' && runtime.databaseService && dbHost === runtime.databaseService)
      todo.push(
        `${databaseUrlVar} points at the compose service '${dbHost}', which only containers can resolve: publish its port ` +
          `(ports: ["127.0.0.1:5432:5432"]) and put a URL on 127.0.0.1 in DATABASE_URL_MIGRATE for day2, which runs pg_dump on the host`,
      );
    if (!versionVar && env) versionVar = [...env.keys()].find((k) => /(^|_)(VERSION|RELEASE|TAG)$/.test(k));
    if (versionVar && !why.versionVar) why.versionVar = `found in ${envFile}`;
    if (!versionVar) todo.push('versionVar: the env-file variable holding the running release');
    return { name, runtime, envFile, versionVar, databaseUrlVar, healthReady, backupDir: opts.backupDir, why, todo };
  } finally {
    ask?.close();
  }
}

const defaultName = (dir: string) =>
  path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '') || 'app';

function databaseVarOf(env: Map<string, string> | undefined): string | undefined {
  if (!env) return undefined;
  const pg = [...env.entries()].filter(([, v]) => /^postgres(ql)?:\/\//.test(v)).map(([k]) => k);
  return pg.includes('DATABASE_URL') ? 'DATABASE_URL' : pg.find((k) => !/MIGRATE/.test(k));
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** A question with a default, on stderr (stdout stays what the command prints). Lines typed
 * ahead are queued, not lost; end of input answers every later question with its default. */
function asker() {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let ended = false;
  rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const next = () =>
    lines.length
      ? Promise.resolve(lines.shift())
      : ended
        ? Promise.resolve(undefined)
        : new Promise<string | undefined>((r) => waiting.push(r));
  const ask = async (question: string, dflt?: string): Promise<string | undefined> => {
    process.stderr.write(`${question}${dflt ? ` [${dflt}]` : ''}: `);
    const answer = (await next())?.trim();
    return answer || dflt;
  };
  return Object.assign(ask, { close: () => rl.close() });
}
