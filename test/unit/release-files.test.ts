// Unit tests: semver validation and ordering; the release-file activities (version
// variable + version file, deprecated variables) are idempotent and keep every other line.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseFileActivities } from '../../src/activities/runtime/release-files';
import { parseConfig } from '../../src/config';
import { assertVersion, compareVersions, isVersion } from '../../src/domain/version';
import { createLogger } from '../../src/logger';
import { activityDeps } from '../../src/activities/shared/deps';

describe('release versions (semver)', () => {
  it('accepts MAJOR.MINOR.PATCH with an optional pre-release', () => {
    for (const v of ['0.0.0', '1.2.3', '10.20.30', '1.0.0-rc.1', '1.0.0-alpha', '1.0.0-0.3.7', '1.0.0-x-y.7']) assert.ok(isVersion(v), v);
  });

  it('refuses anything else with a BadInputError that quotes the input', () => {
    for (const v of [
      '1.2',
      '1',
      'latest',
      'v1.2.3',
      '1.2.3 ',
      '01.2.3',
      '1.2.3-',
      '1.2.3+build',
      'latest; rm -rf /',
      '1.0.0; touch x',
      '',
    ]) {
      assert.equal(isVersion(v), false, v);
      assert.throws(
        () => assertVersion(v),
        (err: Error) => err.name === 'BadInput' && err.message.includes(JSON.stringify(v)),
      );
    }
  });

  it('orders by precedence: numbers numerically, a release after its pre-releases', () => {
    const sorted = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 0; i + 1 < sorted.length; i++) {
      assert.equal(compareVersions(sorted[i]!, sorted[i + 1]!), -1, `${sorted[i]} < ${sorted[i + 1]}`);
      assert.equal(compareVersions(sorted[i + 1]!, sorted[i]!), 1);
    }
    assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
  });
});

describe('release-file activities', () => {
  let dir: string;
  const logger = createLogger('test', 'silent');
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'day2-release-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const acts = (extra: Record<string, unknown> = {}) =>
    releaseFileActivities(
      activityDeps({
        logger,
        config: parseConfig(
          {
            deployments: {
              svc: {
                runtime: { kind: 'commands', start: 'true', stop: 'true' },
                envFile: '.env',
                versionFile: 'VERSION',
                versionVar: 'SVC_VERSION',
                deprecatedVars: ['LEGACY_AUTH', 'OLD_FLAG'],
                health: { ready: 'http://127.0.0.1:1/ready' },
                backup: { dir: 'b' },
                ...extra,
              },
            },
          },
          dir,
        ),
      }),
    );
  const env = () => readFileSync(path.join(dir, '.env'), 'utf8');

  it('writes the version into the env file and the version file, once, keeping every other line', async () => {
    const original = '# settings\nexport SVC_VERSION=1.0.0\n\nDATABASE_URL=postgres://u:p@h/db\nLEGACY_AUTH=yes\n';
    writeFileSync(path.join(dir, '.env'), original, { mode: 0o600 });
    writeFileSync(path.join(dir, 'VERSION'), '1.0.0\nbuilt by ci\n');
    const first = await acts().writeReleaseVersion({ deployment: 'svc', version: '1.1.0' });
    assert.deepEqual(first, { envFileChanged: true, versionFileChanged: true });
    assert.equal(env(), original.replace('export SVC_VERSION=1.0.0', 'export SVC_VERSION=1.1.0'));
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8'), '1.1.0\nbuilt by ci\n');
    assert.equal(statSync(path.join(dir, '.env')).mode & 0o777, 0o600, 'the env file keeps its mode');

    const again = await acts().writeReleaseVersion({ deployment: 'svc', version: '1.1.0' });
    assert.deepEqual(again, { envFileChanged: false, versionFileChanged: false });
    await assert.rejects(acts().writeReleaseVersion({ deployment: 'svc', version: '1.1; rm -rf /' }), { name: 'BadInput' });
  });

  it('creates a missing version file; appends the version variable when absent', async () => {
    writeFileSync(path.join(dir, '.env'), 'A=1\n');
    rmSync(path.join(dir, 'VERSION'), { force: true });
    await acts().writeReleaseVersion({ deployment: 'svc', version: '2.0.0-rc.1' });
    assert.equal(env(), 'A=1\nSVC_VERSION=2.0.0-rc.1\n');
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8'), '2.0.0-rc.1\n');
  });

  it('comments out only the deprecated variables that are set, under the note, idempotently', async () => {
    const original = '# a\nLEGACY_AUTH=on\nKEEP=1\n# OLD_FLAG=already commented\n';
    writeFileSync(path.join(dir, '.env'), original);
    const note = 'removed in 1.2.0: commented out by day2 upgrade 1.1.0 → 1.2.0 on 2026-11-22';
    assert.deepEqual(await acts().commentOutDeprecatedVars({ deployment: 'svc', note }), { commentedOut: ['LEGACY_AUTH'] });
    const expected = `# a\n# ${note}\n# LEGACY_AUTH=on\nKEEP=1\n# OLD_FLAG=already commented\n`;
    assert.equal(env(), expected);
    assert.deepEqual(await acts().commentOutDeprecatedVars({ deployment: 'svc', note }), { commentedOut: [] });
    assert.equal(env(), expected, 'a second run changes nothing');
  });

  it('reads the upgrade policy from the config', async () => {
    const policy = await acts({
      upgrade: { autoRollback: true },
      gates: { 'rollback-failed-upgrade': { timeoutSeconds: 600 } },
    }).readUpgradePolicy({
      deployment: 'svc',
    });
    assert.deepEqual(policy, {
      autoRollback: true,
      rollbackGateTimeoutSeconds: 600,
      readyTimeoutSeconds: 30,
      deprecatedVars: ['LEGACY_AUTH', 'OLD_FLAG'],
    });
  });
});
