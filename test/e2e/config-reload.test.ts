// A worker outlives edits of day2.yaml: before each activity it reloads a changed file, so
// no step acts on a config the operator has replaced; what it cannot take on without a
// restart (the temporal section), or a file that no longer validates, is refused with
// what to do, and the step goes on once the file is right again.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { createActivities } from '../../src/activities';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startE2E, type E2E } from '../harness/e2e';

let e2e: E2E;
before(async () => {
  e2e = await startE2E('config-reload', { autoRollback: false });
});
after(async () => e2e?.teardown());

function editConfig(edit: (doc: Record<string, any>) => void): void {
  const file = e2e.deployment.configFile;
  const doc = YAML.parse(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, YAML.stringify(doc));
}

test('a changed day2.yaml is reloaded before the next activity; a broken or temporal-changing one is refused with what to do', async () => {
  const file = e2e.deployment.configFile;
  const original = readFileSync(file, 'utf8');
  const acts = createActivities({ config: loadConfig(file), logger: createLogger('test', 'silent'), configFile: file });
  const name = 'config-reload';
  assert.equal((await acts.readUpgradePolicy({ deployment: name })).autoRollback, false);

  editConfig((doc) => (doc.deployments[name].upgrade.autoRollback = true));
  assert.equal((await acts.readUpgradePolicy({ deployment: name })).autoRollback, true, 'the edit is seen without a restart');

  editConfig((doc) => (doc.deployments[name].upgrade.autoRollback = 'sometimes'));
  await assert.rejects(acts.readUpgradePolicy({ deployment: name }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'StaleConfig');
    assert.equal(err.nonRetryable, false, 'retries: fixing the file lets the step go on');
    assert.match(err.message, /changed since this worker read it/);
    assert.match(err.message, /upgrade\.autoRollback/);
    return true;
  });

  editConfig((doc) => {
    doc.deployments[name].upgrade.autoRollback = false;
    doc.temporal.taskQueue = 'another-queue';
  });
  await assert.rejects(acts.readUpgradePolicy({ deployment: name }), /temporal section changed.*Restart the worker/);

  writeFileSync(file, original);
  assert.equal((await acts.readUpgradePolicy({ deployment: name })).autoRollback, false, 'the original file is in force again');
});
