// day2.yaml refuses every key it does not know, at every level, and names the one meant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config';
import { day2ConfigSchema } from '../../src/domain/config-schema';

type Def = { type: string; [key: string]: any };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** Paths of every object schema that would drop (not refuse) an unknown key. */
function lenientObjects(schema: unknown, path: string, seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = defOf(schema);
  const inner = (s: unknown, p = path) => lenientObjects(s, p, seen);
  switch (def.type) {
    case 'object': {
      const own = defOf(def.catchall ?? { _zod: { def: { type: 'none' } } }).type === 'never' ? [] : [path || '(top level)'];
      return [...own, ...Object.entries(def.shape).flatMap(([k, v]) => inner(v, path ? `${path}.${k}` : k))];
    }
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return inner(def.innerType);
    case 'pipe':
      return inner(def.in);
    case 'union':
      return (def.options as unknown[]).flatMap((o) => inner(o));
    case 'record':
      return inner(def.valueType, `${path}.<name>`);
    case 'array':
      return inner(def.element, `${path}[]`);
    default:
      return [];
  }
}

test('every object of the day2.yaml schema is strict', () => {
  assert.deepEqual(lenientObjects(day2ConfigSchema, ''), []);
});

test('an unknown key is refused with its path and the close spelling', () => {
  const deployment = {
    runtime: { kind: 'commands', start: 'a', stop: 'b' },
    envFile: '.env',
    health: { ready: 'http://a/' },
    backup: { dir: 'b' },
  };
  const message = (raw: unknown) => {
    try {
      parseConfig(raw, '/tmp');
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };
  assert.equal(message({ temporl: {}, deployments: {} }), 'config: temporl: unknown key — did you mean temporal?');
  assert.equal(
    message({ deployments: { x: { ...deployment, upgrade: { autoRolback: true } } } }),
    'config: deployments.x.upgrade.autoRolback: unknown key — did you mean autoRollback?',
  );
  assert.equal(
    message({ deployments: { x: { ...deployment, secrets: { signingKeyVars: 'K' } } } }),
    'config: deployments.x.secrets.signingKeyVars: unknown key — did you mean signingKeyVar?',
  );
  assert.equal(
    message({ temporal: { tls: { cafile: 'ca.pem' } }, deployments: {} }),
    'config: temporal.tls.cafile: unknown key — did you mean caFile?',
  );
  assert.equal(message({ deployments: { x: { ...deployment, zzzzzz: 1 } } }), 'config: deployments.x.zzzzzz: unknown key');
});
