// Keeps the whole output of a failed command in `<backup.dir>/logs/` (directory 0700, files
// 0600, written atomically), masked as a support bundle is: URL credentials and the env
// file's secret values. The failure message names the file; a support bundle carries the
// newest ones. A retry that fails again writes another file: names never collide (the
// time, and the workflow run and attempt when it runs in an activity).
import { currentActivity } from './activity-context';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentConfig } from '../../domain/config-schema';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../../lib/atomic-file';
import { ensureBackupDir } from './backup-files';
import { envFileSecrets } from './deployment-secrets';
import type { FailedOutput, KeptOutput, OutputKeeper } from './failure-text';
import { scrubSecrets } from './redact';

export function failureLogDir(d: DeploymentConfig): string {
  return path.join(d.backup.dir, 'logs');
}

export function failedOutputKeeper(d: DeploymentConfig): OutputKeeper {
  return (failed) => keepFailedOutput(d, failed);
}

/** Writes the file; never throws (the command's failure is the news, not this). */
export async function keepFailedOutput(d: DeploymentConfig, failed: FailedOutput, now = new Date()): Promise<KeptOutput> {
  const secrets = await envFileSecrets(d);
  const mask = (text: string) => scrubSecrets(text, secrets);
  const dir = failureLogDir(d);
  const run = activityRun();
  const file = path.join(
    dir,
    `${now.toISOString().replace(/:/g, '')}-${slug(failed.what, 40)}-${run?.name ?? `${process.pid}-${randomBytes(3).toString('hex')}`}.log`,
  );
  try {
    await ensureBackupDir(dir);
    await writeFileAtomic(file, mask(logText(failed, now, run?.about)), PRIVATE_FILE_MODE);
    return { file, mask };
  } catch (err) {
    return { problem: `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, mask };
  }
}

/** The newest kept outputs first (names start with the time). */
export async function newestFailureLogs(d: DeploymentConfig, count: number): Promise<{ total: number; files: string[] }> {
  const names = (await readdir(failureLogDir(d)).catch(() => [] as string[])).filter((n) => !n.startsWith('.') && n.endsWith('.log'));
  names.sort().reverse();
  return { total: names.length, files: names.slice(0, count).map((n) => path.join(failureLogDir(d), n)) };
}

function logText(failed: FailedOutput, now: Date, about?: string): string {
  const section = (name: string, text: string) => `--- ${name} ---\n${text}${text.endsWith('\n') || !text ? '' : '\n'}`;
  return [
    `# ${failed.what} failed (exit ${failed.exitCode}) at ${now.toISOString()}\n`,
    failed.command ? `# command: ${failed.command}\n` : '',
    about ? `# ${about}\n` : '',
    section('stderr', failed.stderr),
    section('stdout', failed.stdout),
  ].join('');
}

function activityRun(): { name: string; about: string } | undefined {
  const info = currentActivity()?.info;
  if (!info) return undefined;
  const { workflowId = '', runId = '' } = info.workflowExecution ?? {};
  return {
    name: `${slug(workflowId, 60)}-${runId.slice(0, 8)}-a${info.attempt}`,
    about: `workflow ${workflowId} run ${runId}, activity ${info.activityType} attempt ${info.attempt}`,
  };
}

function slug(text: string, max: number): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, max)
      .replace(/-$/, '') || 'command'
  );
}
