// docs/config.md: every key of day2.yaml with its type, default and description, rendered
// from the JSON Schema zod exports (so from src/domain/config-schema.ts itself). `npm run
// docs:config` writes it; test/e2e/config-docs.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema, type JsonSchema } from '../src/domain/config-json-schema';

interface Section {
  title: string;
  description?: string;
  rows: string[];
}

const TOP = 'top level';
const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (v: unknown) => `\`${JSON.stringify(v)}\``;

/** A kind-discriminated union: its variants, each named by its `kind`. */
function variantsOf(s: JsonSchema): Array<{ kind: string; schema: JsonSchema }> | undefined {
  const options = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (!options?.every((o) => o.properties?.kind?.const)) return undefined;
  return options.map((o) => ({ kind: String(o.properties!.kind.const), schema: o }));
}

const isObject = (s: JsonSchema) => s.type === 'object' && s.properties;
const isMap = (s: JsonSchema) => s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object';

function render(root: JsonSchema): string {
  const sections: Section[] = [];
  const seen = new Map<string, string>(); // schema JSON → the title of the section that shows it

  /** A section for an object (or a union of kinds) at `title`; returns a link to it. */
  function section(s: JsonSchema, title: string): string {
    const { default: _d, description: _x, ...shape } = s;
    const key = JSON.stringify(shape);
    const existing = seen.get(key);
    if (existing) return existing;
    const link = `[\`${title}\`](#${slug(title)})`;
    seen.set(key, link);
    const variants = variantsOf(s);
    if (variants) {
      const links = variants.map((v) => section(v.schema, `${title} (kind: ${v.kind})`));
      seen.set(key, `one of ${links.join(', ')}`);
      return seen.get(key)!;
    }
    const entry: Section = { title, description: s.description, rows: [] };
    sections.push(entry);
    const required = new Set<string>(s.required ?? []);
    for (const [name, prop] of Object.entries<JsonSchema>(s.properties ?? {})) {
      const type = typeOf(prop, title === TOP ? name : `${title}.${name}`);
      const dflt = prop.default !== undefined ? code(prop.default) : required.has(name) ? '**required**' : '';
      entry.rows.push(`| \`${name}\` | ${cell(type)} | ${cell(dflt)} | ${cell(prop.description ?? '')} |`);
    }
    return link;
  }

  function typeOf(s: JsonSchema, title: string): string {
    if (s.const !== undefined) return code(s.const);
    if (s.enum) return s.enum.map(code).join(' | ');
    if (variantsOf(s) || isObject(s)) return section(s, title);
    if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).map((o: JsonSchema) => typeOf(o, title)).join(' or ');
    if (isMap(s))
      return `map of ${s.propertyNames ? typeOf(s.propertyNames, title).replace('string', 'name') : 'name'} → ${typeOf(s.additionalProperties, `${title}.<name>`)}`;
    if (s.type === 'object') return 'object';
    if (s.type === 'array') return `list of ${typeOf(s.items ?? {}, `${title}[]`)}`;
    if (s.type === 'string')
      return s.format === 'uri' ? 'URL' : s.pattern && !s.pattern.includes('`') ? `string (\`${s.pattern}\`)` : 'string';
    if (s.type === 'integer' || s.type === 'number') return `${s.type === 'integer' ? 'whole number' : 'number'}${bounds(s)}`;
    if (s.type === 'boolean') return 'boolean';
    return 'any';
  }

  section(root, TOP);
  return [
    '# day2.yaml reference',
    '',
    'Generated from `src/domain/config-schema.ts` by `npm run docs:config` (do not edit by hand;',
    '`test/e2e/config-docs.test.ts` fails when this file is stale). `day2 config schema` prints the',
    'same schema as JSON Schema for editor completion; `day2 config check` validates a file and',
    'prints it resolved, with secrets redacted. Unknown keys are refused at every level. Paths',
    'are relative to day2.yaml; values of secrets are never written here, only the names of the',
    'env-file variables that hold them (`…Var`).',
    '',
    ...sections.flatMap((s) => [
      `## \`${s.title}\``,
      '',
      ...(s.description ? [s.description, ''] : []),
      '| key | type | default | description |',
      '|---|---|---|---|',
      ...s.rows,
      '',
    ]),
  ].join('\n');
}

function bounds(s: JsonSchema): string {
  const parts: string[] = [];
  const safe = (n: number) => Math.abs(n) < Number.MAX_SAFE_INTEGER;
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined && safe(s.minimum)) parts.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined && safe(s.maximum)) parts.push(`≤ ${s.maximum}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

export const configDocsPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'config.md');
export const configDocs = () => render(configJsonSchema());

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  writeFileSync(configDocsPath, configDocs());
  console.log(`wrote ${path.relative(process.cwd(), configDocsPath)}`);
}
