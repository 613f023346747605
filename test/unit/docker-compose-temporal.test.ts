// No Docker engine runs where the tests do, so this checks the compose file's argv and
// shape only: the pieces a user relies on (ports, persistent volume, start order, the
// schema job's sql tool steps, namespace and search attributes). The same steps run for
// real, natively, in test/temporal-postgres.test.ts (src/temporal-postgres.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DAY2_SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';

interface Service {
  image?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  command?: string | string[];
}

const file = fileURLToPath(new URL('../../docker-compose.temporal.yml', import.meta.url));
const compose = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const service = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} is missing`);
  return s;
};
/** Host port of a "host:container" or "ip:host:container" mapping for `containerPort`. */
const hostPortFor = (s: Service, containerPort: number) =>
  s.ports
    ?.map((p) => p.split(':'))
    .find((parts) => parts.at(-1) === String(containerPort))
    ?.at(-2);

test('docker-compose.temporal.yml (argv/shape only, no Docker engine here): services and images are pinned, no auto-setup', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [
    'postgresql',
    'temporal',
    'temporal-admin-tools',
    'temporal-schema',
    'temporal-ui',
  ]);
  for (const [name, s] of Object.entries(compose.services)) {
    assert.match(s.image ?? '', /:[0-9][\w.-]*$/, `${name} pins an image tag`);
    assert.doesNotMatch(s.image ?? '', /auto-setup/, `${name} does not use the deprecated auto-setup image`);
  }
  assert.match(service('temporal').image!, /^temporalio\/server:1\.29\.1$/);
  assert.match(service('temporal-schema').image!, /^temporalio\/admin-tools:1\.29\.1-/);
  assert.equal(service('temporal').environment?.DB, 'postgres12');
  assert.equal(service('temporal').environment?.POSTGRES_SEEDS, 'postgresql');
});

test('docker-compose.temporal.yml (argv/shape only, no Docker engine here): the schema job runs the sql tool on both databases before the server', () => {
  const job = service('temporal-schema');
  assert.equal(job.depends_on?.postgresql?.condition, 'service_healthy');
  assert.equal(service('temporal').depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
  assert.equal(job.environment?.SQL_PLUGIN, 'postgres12');
  assert.equal(job.environment?.SQL_HOST, 'postgresql');
  // The password reaches the tool through its environment, never its argv.
  assert.ok(job.environment?.SQL_PASSWORD, 'SQL_PASSWORD is set');
  const lines = [job.command ?? '']
    .flat()
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('temporal-sql-tool'));
  assert.ok(
    lines.every((l) => !/--password|--pw\b/.test(l)),
    'no password on the command line',
  );
  const schemaDir = { temporal: '$$schema/temporal/versioned', temporal_visibility: '$$schema/visibility/versioned' };
  const expected = Object.entries(schemaDir).flatMap(([db, dir]) => [
    `temporal-sql-tool --db ${db} create-database`,
    `temporal-sql-tool --db ${db} setup-schema -v 0.0`,
    `temporal-sql-tool --db ${db} update-schema -d ${dir}`,
  ]);
  assert.deepEqual(lines, expected, 'create-database, setup-schema -v 0.0, update-schema, in that order, for both databases');
  assert.match([job.command ?? ''].flat().join('\n'), /schema=\/etc\/temporal\/schema\/postgresql\/v12\n/);
  assert.match([job.command ?? ''].flat().join('\n'), /^set -e$/m, 'a failed step fails the job, so the server does not start');
});

test('docker-compose.temporal.yml (argv/shape only, no Docker engine here): ports 7233 and 8233, named volume, start order', () => {
  assert.equal(hostPortFor(service('temporal'), 7233), '7233');
  assert.equal(hostPortFor(service('temporal-ui'), 8080), '8233');
  assert.equal(service('temporal-ui').environment?.TEMPORAL_ADDRESS, 'temporal:7233');

  assert.ok('temporal-postgres-data' in compose.volumes);
  assert.ok(service('postgresql').volumes?.some((v) => v.startsWith('temporal-postgres-data:')));
  assert.ok(service('postgresql').healthcheck, 'postgresql has a healthcheck');

  assert.equal(service('temporal-schema').depends_on?.postgresql?.condition, 'service_healthy');
  assert.ok(service('temporal-admin-tools').depends_on?.temporal);
  assert.ok(service('temporal-ui').depends_on?.temporal);
});

test('docker-compose.temporal.yml (argv/shape only, no Docker engine here): admin-tools creates the namespace and registers every Day2 search attribute', () => {
  const command = [service('temporal-admin-tools').command ?? ''].flat().join('\n');
  // The server image creates no namespace (auto-setup did).
  assert.match(command, /temporal operator namespace create --namespace default\b/);
  assert.match(command, /temporal operator search-attribute create/);
  assert.match(command, /--address temporal:7233/);
  for (const key of DAY2_SEARCH_ATTRIBUTES) {
    // The CLI pairs each --name with the --type that follows it; a name without its own
    // --type is silently not registered.
    assert.match(command, new RegExp(`--name ${key.name} --type Keyword\\b`), `${key.name} is registered as Keyword`);
  }
});
