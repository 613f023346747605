// docs/config.md is generated from the schema (npm run docs:config) and must not go stale;
// `day2 config schema` prints the JSON Schema; `day2 config check` prints the resolved
// config without any secret.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { configDocs, configDocsPath } from '../../scripts/config-docs';
import { runCli } from '../harness/cli';

test('docs/config.md is up to date with the schema (npm run docs:config rewrites it)', () => {
  const docs = configDocs();
  assert.equal(readFileSync(configDocsPath, 'utf8'), docs, 'docs/config.md is stale: run npm run docs:config');
  for (const key of ['databaseUrlVar', 'deprecatedVars', 'versionField', 'migrateService', 'autoRollback', 'signingKeyFormat'])
    assert.match(docs, new RegExp(`\\| \`${key}\` \\|`));
});

test('day2 config schema prints JSON Schema; config check prints the resolved config, secrets redacted', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'day2-config-'));
  const token = 'hook-token-7f3a9c2e51';
  const file = path.join(dir, 'day2.yaml');
  writeFileSync(
    file,
    YAML.stringify({
      deployments: {
        shop: {
          runtime: { kind: 'compose' },
          envFile: '.env',
          health: { ready: `http://probe:${token}@127.0.0.1:8080/ready` },
          backup: { dir: 'backups' },
          notify: { webhookUrl: `https://hooks.example/${token}` },
        },
      },
    }),
  );
  writeFileSync(path.join(dir, '.env'), `DATABASE_URL=postgres://shop:${token}@127.0.0.1/shop\n`);

  const schema = await runCli(file, ['config', 'schema']);
  assert.equal(schema.exitCode, 0, schema.stderr);
  const json = JSON.parse(schema.stdout);
  assert.equal(json.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(json.additionalProperties, false);

  const check = await runCli(file, ['config', 'check']);
  assert.equal(check.exitCode, 0, check.stderr);
  assert.match(check.stdout, /valid — 1 deployment\(s\): shop/);
  assert.match(check.stdout, /apiService: api/); // defaults filled in
  assert.ok(check.stdout.includes(path.join(dir, 'backups')), 'paths resolved');
  assert.ok(!`${check.stdout}${check.stderr}`.includes(token), `a secret printed:\n${check.stdout}`);

  const asJson = await runCli(file, ['--json', 'config', 'check']);
  assert.equal(asJson.exitCode, 0);
  assert.equal(asJson.stderr, '');
  const resolved = JSON.parse(asJson.stdout);
  assert.equal(resolved.deployments.shop.notify.webhookUrl, '[REDACTED]');
  assert.equal(resolved.deployments.shop.databaseUrlVar, 'DATABASE_URL');
  assert.ok(!asJson.stdout.includes(token));

  writeFileSync(file, readFileSync(file, 'utf8').replace('backup:', 'backups:'));
  const bad = await runCli(file, ['config', 'check']);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /deployments\.shop\.backups: unknown key — did you mean backup\?/);
});
