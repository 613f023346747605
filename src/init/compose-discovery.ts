// What `day2 init` can read off a docker compose file: which service is the API, the worker,
// the migration runner and the bundled PostgreSQL; the env file; the published port and
// health check of the API; the variable the image tag takes the release from. Pure apart
// from reading the files it is given; every guess is reported so the person can correct it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  env_file?: string | string[] | Array<{ path: string }>;
  ports?: Array<string | number | { target?: number; published?: number | string; host_ip?: string }>;
  healthcheck?: { test?: string | string[] };
  environment?: Record<string, string | null> | string[];
  profiles?: string[];
}

export interface ComposeFindings {
  file: string;
  services: string[];
  apiService?: string;
  workerService?: string;
  migrateService?: string;
  databaseService?: string;
  /** The bundled database publishes a port on the host (day2 could reach it by URL there). */
  databasePublished?: boolean;
  /** Relative to the compose file's directory. */
  envFile?: string;
  /** The API's host port and the health URL on it, when the compose file says so. */
  apiPort?: number;
  healthUrl?: string;
  /** The variable the API image's tag comes from: `image: x/api:${APP_VERSION}`. */
  versionVar?: string;
  /** What was guessed and why, for the person to check. */
  notes: string[];
}

const POSTGRES_IMAGE = /(^|\/)(postgres|postgis\/postgis|timescale\/timescaledb[\w-]*|pgvector\/pgvector|bitnami\/postgresql)(:|@|$)/;

export function discoverCompose(file: string): ComposeFindings {
  let doc: { services?: Record<string, ComposeService> };
  try {
    doc = YAML.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (err) {
    throw new Error(`${file} is not a readable compose file: ${(err as Error).message}`, { cause: err });
  }
  const services = doc?.services ?? {};
  const names = Object.keys(services);
  if (!names.length) throw new Error(`${file} has no services`);
  const notes: string[] = [];
  const found: ComposeFindings = { file, services: names, notes };

  const databases = names.filter((n) => POSTGRES_IMAGE.test(services[n]!.image ?? ''));
  found.databaseService = databases[0];
  if (found.databaseService) found.databasePublished = hostPorts(services[found.databaseService]!).length > 0;
  if (databases.length > 1) notes.push(`several PostgreSQL services (${databases.join(', ')}): took ${databases[0]}`);

  const apps = names.filter((n) => !databases.includes(n));
  const byName = (re: RegExp) => apps.find((n) => re.test(n));
  const published = (n: string) => hostPorts(services[n]!).length > 0;
  found.apiService = byName(/^(api|web|app|server|backend)$/) ?? apps.find(published) ?? byName(/api|web|app|server/) ?? apps[0];
  found.workerService = byName(/worker|jobs|queue|sidekiq|celery/);
  found.migrateService = byName(/migrat/) ?? found.apiService;
  if (found.apiService) notes.push(`API service: ${found.apiService}`);
  if (found.workerService) notes.push(`worker service: ${found.workerService}`);
  else notes.push('no worker service found: workerService is set to the API service (stopped with it)');

  const api = found.apiService ? services[found.apiService]! : undefined;
  if (api) {
    found.envFile = envFileOf(api) ?? (existsSync(path.join(path.dirname(file), '.env')) ? '.env' : undefined);
    const ports = hostPorts(api);
    found.apiPort = ports[0]?.published;
    const check = healthCheckUrl(api);
    if (check && found.apiPort !== undefined) {
      // The check runs inside the container: the same path on the host's published port.
      const inside = ports.find((p) => p.target === check.port) ?? ports[0]!;
      found.healthUrl = `http://127.0.0.1:${inside.published}${check.path}`;
      notes.push(`health: ${found.apiService}'s healthcheck ${check.url}, on the published port ${inside.published}`);
    } else if (found.apiPort !== undefined) {
      found.healthUrl = `http://127.0.0.1:${found.apiPort}/health`;
      notes.push(`health: no healthcheck with a URL on ${found.apiService}; guessed ${found.healthUrl}`);
    }
    found.versionVar = /:\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-[^}]*)?\}$/.exec(api.image ?? '')?.[1];
  }
  return found;
}

function envFileOf(s: ComposeService): string | undefined {
  const e = s.env_file;
  const first = Array.isArray(e) ? e[0] : e;
  return typeof first === 'string' ? first : first?.path;
}

/** `"8080:3000"`, `"127.0.0.1:8080:3000/tcp"`, `{ target: 3000, published: 8080 }`. */
function hostPorts(s: ComposeService): Array<{ published: number; target: number }> {
  const out: Array<{ published: number; target: number }> = [];
  for (const p of s.ports ?? []) {
    if (typeof p === 'object') {
      if (p.published !== undefined && p.target !== undefined) out.push({ published: Number(p.published), target: p.target });
      continue;
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    if (parts.length < 2) continue; // a container port only: not reachable from the host
    const [published, target] = parts.slice(-2).map(Number);
    if (Number.isInteger(published) && Number.isInteger(target)) out.push({ published: published!, target: target! });
  }
  return out;
}

function healthCheckUrl(s: ComposeService): { url: string; port: number; path: string } | undefined {
  const test = s.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : (test ?? '');
  const m = /https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0)(?::(\d+))?(\/[^\s'"]*)?/.exec(text);
  if (!m) return undefined;
  return { url: m[0], port: Number(m[1] ?? 80), path: m[2] ?? '/' };
}
