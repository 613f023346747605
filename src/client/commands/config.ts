// `day2 config schema`: day2.yaml's JSON Schema, for editor completion. `day2 config check`:
// validates day2.yaml (and the codec keyring it names) and prints it as the worker sees it,
// defaults filled in and paths resolved. Neither needs Temporal. day2.yaml holds only the
// names of env-file variables, never their values; what it may hold that is secret (a
// webhook URL with its token, credentials in a URL) is redacted.
import type { Command } from 'commander';
import YAML from 'yaml';
import { redactCredentials } from '../../domain/mask-credentials';
import { configPath, loadConfig, type Day2Config } from '../../config';
import { loadKeyring } from '../../codec/keys';
import { configJsonSchema } from '../../domain/config-json-schema';
import type { GlobalOptions } from '../context';

const REDACTED = '[REDACTED]';
/** Keys whose value is itself a secret when set (not the name of a variable holding one). */
const SECRET_VALUE_KEYS = new Set(['webhookUrl']);

/** The config with secret values replaced; every string passes the URL-credential mask. */
function redactedConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return SECRET_VALUE_KEYS.has(key) ? REDACTED : redactCredentials(value);
  if (Array.isArray(value)) return value.map((v) => redactedConfig(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactedConfig(v, k)]));
  return value;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the day2.yaml reference: its JSON Schema, and a check of a file');
  config
    .command('schema')
    .description("print day2.yaml's JSON Schema (for editor completion; docs/config.md is the same, for people)")
    .addHelpText(
      'after',
      '\nExample:\n  day2 config schema > day2.schema.json   # then, atop day2.yaml: # yaml-language-server: $schema=day2.schema.json',
    )
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
  config
    .command('check')
    .description('validate day2.yaml and print it resolved (defaults filled in, paths absolute, secrets redacted)')
    .addHelpText('after', '\nExample:\n  day2 config check\n  day2 --config /etc/day2/day2.yaml --json config check | jq .deployments')
    .action(() => {
      const options = program.opts<GlobalOptions>();
      const file = configPath(options.config);
      const resolved = loadConfig(file);
      const keyring = loadKeyring(resolved); // a codec keyring that cannot be read fails here too
      const shown = redactedConfig(resolved) as Day2Config;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        return;
      }
      const deployments = Object.keys(resolved.deployments);
      const codec = keyring ? `; payload codec: ${keyring.keys.size} key(s), current ${keyring.currentKeyId}` : '';
      if (!options.quiet) {
        process.stdout.write(`# ${file}: valid — ${deployments.length} deployment(s): ${deployments.join(', ') || '(none)'}${codec}\n`);
        process.stdout.write(`# resolved: defaults filled in, paths absolute, secrets redacted; env-file values are never shown\n`);
        process.stdout.write(YAML.stringify(shown));
      }
    });
}
