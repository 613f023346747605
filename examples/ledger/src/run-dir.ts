// The deployment's state directory, `<dir of env file>/run/`: pidfiles, service logs, the
// list of pulled releases, and the `registry-down` switch tests use to fail a pull.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ServiceName = 'api' | 'worker';

export interface RunDir {
  dir: string;
  pidfile(service: ServiceName): string;
  logFile(service: ServiceName): string;
  pulledFile: string;
  registryDownFile: string;
}

export function openRunDir(envFile: string): RunDir {
  const dir = path.join(path.dirname(path.resolve(envFile)), 'run');
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    pidfile: (service) => path.join(dir, `${service}.pid`),
    logFile: (service) => path.join(dir, `${service}.log`),
    pulledFile: path.join(dir, 'pulled.json'),
    registryDownFile: path.join(dir, 'registry-down'),
  };
}

/** Write-then-rename, so a reader never sees half a file. */
export function writeFileAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

export function readPulledVersions(run: RunDir): string[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(run.pulledFile, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export function recordPulledVersion(run: RunDir, version: string): void {
  const versions = new Set(readPulledVersions(run));
  if (versions.has(version)) return;
  versions.add(version);
  writeFileAtomic(run.pulledFile, `${JSON.stringify([...versions].sort())}\n`);
}
