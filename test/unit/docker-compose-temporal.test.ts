// No Docker engine runs where the tests do, so this checks the compose file's content:
// the pieces a user relies on (ports, persistent volume, start order, search attributes).
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
  s.ports?.map((p) => p.split(':')).find((parts) => parts.at(-1) === String(containerPort))?.at(-2);

test('docker-compose.temporal.yml (file content, not a running stack): services and images are pinned', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui']);
  for (const [name, s] of Object.entries(compose.services)) {
    assert.match(s.image ?? '', /:[0-9][\w.-]*$/, `${name} pins an image tag`);
  }
  assert.match(service('temporal').image!, /^temporalio\/auto-setup:/);
  assert.equal(service('temporal').environment?.DB, 'postgres12');
  assert.equal(service('temporal').environment?.POSTGRES_SEEDS, 'postgresql');
});

test('docker-compose.temporal.yml (file content): ports 7233 and 8233, named volume, start order', () => {
  assert.equal(hostPortFor(service('temporal'), 7233), '7233');
  assert.equal(hostPortFor(service('temporal-ui'), 8080), '8233');
  assert.equal(service('temporal-ui').environment?.TEMPORAL_ADDRESS, 'temporal:7233');

  assert.ok('temporal-postgres-data' in compose.volumes);
  assert.ok(service('postgresql').volumes?.some((v) => v.startsWith('temporal-postgres-data:')));
  assert.ok(service('postgresql').healthcheck, 'postgresql has a healthcheck');

  assert.equal(service('temporal').depends_on?.postgresql?.condition, 'service_healthy');
  assert.ok(service('temporal-admin-tools').depends_on?.temporal);
  assert.ok(service('temporal-ui').depends_on?.temporal);
});

test('docker-compose.temporal.yml (file content): admin-tools registers every Day2 search attribute', () => {
  const command = [service('temporal-admin-tools').command ?? ''].flat().join('\n');
  assert.match(command, /temporal operator search-attribute create/);
  assert.match(command, /--address temporal:7233/);
  for (const key of DAY2_SEARCH_ATTRIBUTES) {
    // The CLI pairs each --name with the --type that follows it; a name without its own
    // --type is silently not registered.
    assert.match(command, new RegExp(`--name ${key.name} --type Keyword\\b`), `${key.name} is registered as Keyword`);
  }
});
