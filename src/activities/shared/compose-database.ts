// A bundled database reached inside compose (runtime.databaseVia: exec). PostgreSQL's
// programs run in the database service (`docker compose … exec -T <service> pg_dump …`),
// the archive streamed through their stdout and stdin, so the worker's host needs no
// PostgreSQL tools and no published port, and the tools are the server's own version.
//
// day2's own SQL (the readiness probe, CREATE/ALTER/DROP DATABASE of the staging swap,
// checksums, row counts) uses node-pg, which cannot resolve a compose service name from
// the host. It connects to the container's address on its compose network instead
// (`docker compose ps -q <service>`, then `docker inspect`): on a Linux Docker host the
// bridge networks are routed from the host, so this is the same server, port and
// credentials the service uses, with no port published. The alternative — every
// statement through `exec -T psql` — would mean a second SQL path for each of the many
// queries day2 runs (and parsing psql's output); not worth it while one address works.
// Docker Desktop (macOS, Windows) does not route container addresses to the host: there,
// publish the port on loopback and use databaseVia: url.
//
// The password never goes on argv: `-e PGPASSWORD` names the variable, its value is in
// docker's environment, and compose passes it into the container.
import { execa } from 'execa';
import type { DeploymentConfig } from '../../domain/config-schema';
import { DatabaseUnreachableError } from '../../domain/errors';
import { composeBase, type ComposeRuntime } from '../runtime/compose';

/** Where and how to run a program inside the database service. */
export interface ComposeExec {
  /** `docker compose --env-file E -f F… [-p P]` (argv[0] is `docker`). */
  base: string[];
  service: string;
  /** Directory docker compose runs in. */
  cwd?: string;
}

/** The deployment's compose exec route, or undefined when day2 reaches the database by URL. */
export function composeExecOf(d: DeploymentConfig): ComposeExec | undefined {
  const runtime = d.runtime;
  if (runtime.kind !== 'compose' || runtime.databaseVia !== 'exec' || !runtime.databaseService) return undefined;
  return composeExecFor(runtime, d.envFile);
}

export function composeExecFor(runtime: ComposeRuntime, envFile: string): ComposeExec {
  return { base: composeBase(runtime, envFile), service: runtime.databaseService!, cwd: runtime.cwd };
}

/** `docker compose … exec -T [-e NAME…] <service> <program> <args…>`: -T because stdin and
 * stdout carry the archive (no terminal); `-e NAME` without a value takes it from docker's
 * own environment, so the value is never on argv. */
export function execArgv(via: ComposeExec, program: string, args: readonly string[], envNames: readonly string[] = []): string[] {
  return [...via.base, 'exec', '-T', ...envNames.flatMap((name) => ['-e', name]), via.service, program, ...args];
}

/** `docker compose … ps -q <service>`: the id of the service's running container (empty
 * when it is stopped or does not exist). */
export function containerIdArgv(via: ComposeExec): string[] {
  return [...via.base, 'ps', '-q', via.service];
}

/** `docker inspect -f …`: the container's address on each of its networks, space-separated. */
export function containerAddressArgv(containerId: string): string[] {
  return ['docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', containerId];
}

/** What to do when the database service cannot be used: said by every failure here. */
export function serviceAdvice(via: ComposeExec): string {
  return `is the compose service '${via.service}' running? (docker compose ps ${via.service}; start it with docker compose up -d ${via.service}); nothing was changed`;
}

/** The address of the database service's container, for node-pg (see the top of this file). */
export async function containerAddress(via: ComposeExec): Promise<string> {
  const [cmd, ...args] = containerIdArgv(via);
  const ps = await execa(cmd!, args, { cwd: via.cwd, reject: false, stdin: 'ignore' });
  if (ps.exitCode !== 0 || ps.failed) {
    throw new DatabaseUnreachableError(
      `cannot find the database service '${via.service}': docker compose ps failed (${firstLine(ps.stderr, ps.shortMessage)}) — ${serviceAdvice(via)}`,
    );
  }
  const id = String(ps.stdout).trim().split(/\s+/)[0];
  if (!id) throw new DatabaseUnreachableError(`the database service '${via.service}' has no running container — ${serviceAdvice(via)}`);
  const [icmd, ...iargs] = containerAddressArgv(id);
  const inspected = await execa(icmd!, iargs, { cwd: via.cwd, reject: false, stdin: 'ignore' });
  const address = String(inspected.stdout ?? '')
    .trim()
    .split(/\s+/)
    .find((a) => a.length > 0);
  if (inspected.exitCode !== 0 || !address) {
    throw new DatabaseUnreachableError(
      `cannot tell the address of the database service '${via.service}' (docker inspect: ${firstLine(inspected.stderr, 'no network address')}) — ${serviceAdvice(via)}`,
    );
  }
  return address;
}

function firstLine(text: unknown, fallback?: string): string {
  return (
    String(text ?? '')
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ||
    fallback ||
    'no message'
  );
}

/** `url` with its host replaced (the port kept): node-pg goes to the container's address. */
export function withHost(url: string, hostname: string): string {
  const u = new URL(url);
  u.hostname = hostname.includes(':') ? `[${hostname}]` : hostname;
  return u.toString();
}
