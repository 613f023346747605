// What a misspelt key in day2.yaml was meant to be: the keys the schema knows at the
// issue's path, and the one within two edits of what was written. Pure: no I/O.
import type { z } from 'zod';

type Def = { type: string; [key: string]: any };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The object schemas a value at `path` may be checked against (a union gives several). */
function objectsAt(schema: unknown, path: readonly PropertyKey[]): Def[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return objectsAt(def.innerType, path);
    case 'pipe':
      return objectsAt(def.in, path);
    case 'lazy':
      return objectsAt(def.getter(), path);
    case 'union':
      return (def.options as unknown[]).flatMap((o) => objectsAt(o, path));
    case 'object':
      if (!path.length) return [def];
      return def.shape[path[0] as string] ? objectsAt(def.shape[path[0] as string], path.slice(1)) : [];
    case 'record':
      return path.length ? objectsAt(def.valueType, path.slice(1)) : [];
    case 'array':
      return path.length ? objectsAt(def.element, path.slice(1)) : [];
    default:
      return [];
  }
}

/** Keys an object at `path` of `schema` accepts (empty when the path leads to no object). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((def) => Object.keys(def.shape)))];
}

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[t.length]!;
}

/** The known key closest to `written`, if it is at most two edits away. */
export function closeSpelling(written: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(written, key);
    if (distance <= 2 && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}
