// The values a deployment holds as secrets, for masking any text day2 keeps about it (a
// support bundle, a failed command's output).
import { readFile } from 'node:fs/promises';
import type { DeploymentConfig } from '../../domain/config-schema';
import { redactEnvFile } from './redact';

/** Env-file variables that are secrets whatever their names say. */
export function secretVarNames(d: DeploymentConfig): string[] {
  const s = d.secrets;
  // A webhook URL often embeds its token: it is a secret too.
  return [
    d.databaseUrlVar,
    d.migrationUrlVar,
    s.apiKeySecretVar,
    s.apiKeySecretPreviousVar,
    s.signingKeyVar,
    ...(d.notify.webhookUrlVar ? [d.notify.webhookUrlVar] : []),
  ];
}

/** The env file's secret values (keep them in memory only); none when it cannot be read. */
export async function envFileSecrets(d: DeploymentConfig): Promise<string[]> {
  const text = await readFile(d.envFile, 'utf8').catch(() => '');
  return redactEnvFile(text, secretVarNames(d)).secrets;
}
