// The bad-input catalogue: for every command, input that can never work gets a clear
// message and exit code 2 (3 where it is a refusal a later retry can clear), and the live
// database is untouched (per-table checksums, the list of databases, no leftover files).
// The table below is the catalogue: adding a case is one `row(...)` line. The test also
// writes it as markdown to docs/bad-input.md (the README's table).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import pg from 'pg';
import YAML from 'yaml';
import { pgTool } from '../../src/lib/pg-tools';
import { tableChecksums } from '../../src/activities/shared/table-checksums';
import { runCli, type CliResult } from '../harness/cli';
import { startE2E, type E2E } from '../harness/e2e';
import { freePort } from '../harness/free-port';
import { offsiteConfig, startS3, type TestS3 } from '../harness/s3';
import { recordTestSecrets } from '../harness/secret-scan';

const NAME = 'bi';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let e2e: E2E;

// ---------------------------------------------------------------------------------------
// Fixture helpers the rows use. Every backup name below is fake-dated 2001 so it can never
// collide with a real one.
// ---------------------------------------------------------------------------------------
const backupDir = () => e2e.deployment.backupDir;
let goodFile = '';
const goodManifest = () => JSON.parse(readFileSync(path.join(backupDir(), `${goodFile}.manifest.json`), 'utf8')) as Record<string, unknown>;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A copy of the good backup as `name`, damaged by `damage`, with the good manifest (or
 * `manifest(m, dumpPath)`'s rewrite of it; null writes none). */
function backupCopy(
  name: string,
  damage: (dump: string) => void = () => {},
  manifest: (m: Record<string, unknown>, dump: string) => Record<string, unknown> | string | null = (m) => ({ ...m, file: name }),
): string {
  const dump = path.join(backupDir(), name);
  copyFileSync(path.join(backupDir(), goodFile), dump);
  damage(dump);
  const m = manifest(goodManifest(), dump);
  if (m !== null) writeFileSync(`${dump}.manifest.json`, typeof m === 'string' ? m : JSON.stringify(m), { mode: 0o600 });
  return name;
}

/** A manifest that matches the (damaged) file exactly: size and checksum recomputed. */
const consistent =
  (name: string, extra: Record<string, unknown> = {}) =>
  (m: Record<string, unknown>, dump: string) => ({
    ...m,
    file: name,
    sizeBytes: statSync(dump).size,
    sha256: sha256(dump),
    ...extra,
  });

/** A real pg_dump of another database, with a manifest that is right about everything but
 * (if `lie`) the database name. */
async function foreignArchive(name: string, lie: boolean): Promise<string> {
  const url = await e2e.pg.createDatabase('bi_foreign');
  await withAdmin(url, (c) =>
    c.query('create table invoices (id int primary key, total numeric); insert into invoices values (1, 9.99), (2, 19.99)'),
  );
  const dump = path.join(backupDir(), name);
  await execa(pgTool('pg_dump'), ['-Fc', '-f', dump, `--dbname=${url}`]);
  const listing = (await execa(pgTool('pg_restore'), ['--list', dump])).stdout;
  const tocEntries = listing.split('\n').filter((l) => l.trim() && !l.startsWith(';')).length;
  writeFileSync(
    `${dump}.manifest.json`,
    JSON.stringify({ ...consistent(name)(goodManifest(), dump), database: lie ? NAME : 'bi_foreign', tocEntries }),
    { mode: 0o600 },
  );
  return name;
}

/** A day2.yaml beside the real one, changed by `edit` (raw text or parsed YAML). */
function configVariant(name: string, edit: (raw: Record<string, any>) => Record<string, any> | string): string {
  const file = path.join(e2e.dir, `${name}.yaml`);
  const edited = edit(YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8')));
  writeFileSync(file, typeof edited === 'string' ? edited : YAML.stringify(edited));
  return file;
}

/** Runs `fn` with the deployment's env file changed (the worker reads it on every call). */
async function withEnvFile<T>(change: (text: string) => string | null, fn: () => Promise<T>): Promise<T> {
  const file = e2e.deployment.envFile;
  const original = readFileSync(file, 'utf8');
  const changed = change(original);
  if (changed === null) renameSync(file, `${file}.away`);
  else writeFileSync(file, changed, { mode: 0o600 });
  try {
    return await fn();
  } finally {
    if (changed === null) renameSync(`${file}.away`, file);
    else writeFileSync(file, original, { mode: 0o600 });
  }
}
const setVar = (name: string, value: string) => (text: string) => text.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`);
const dropVar = (name: string) => (text: string) => text.replace(new RegExp(`^${name}=.*\\n`, 'm'), '');

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let closedPort = 0;
const liveUrl = () => e2e.deployment.databaseUrl;
const urlWith = (change: (u: URL) => void) => {
  const u = new URL(liveUrl());
  change(u);
  return u.toString();
};

// Off-site copies: backup.offsite on a real versitygw (copies sent as they are, so a row can
// plant a renamed, damaged copy with a manifest that describes it).
const BUCKET = 'day2-bi';
let s3: TestS3;
const offsiteSection = (change: Record<string, unknown> = {}) => offsiteConfig(s3, BUCKET, { encrypted: false, ...change });
function setOffsite(section: Record<string, unknown>): void {
  const doc = YAML.parse(readFileSync(e2e.deployment.configFile, 'utf8'));
  doc.deployments[NAME].backup.offsite = section;
  writeFileSync(e2e.deployment.configFile, YAML.stringify(doc));
}
/** Runs `fn` with backup.offsite changed in the real day2.yaml (the worker reloads it). */
const offsiteChanged = (change: Record<string, unknown>): RowOptions => ({
  around: async (fn) => {
    setOffsite(offsiteSection(change));
    try {
      return await fn();
    } finally {
      setOffsite(offsiteSection());
    }
  },
});
/** The good backup's copy in the bucket again as `name`, one byte flipped, its manifest
 * renamed to match (so only the bytes are wrong). */
async function tamperedRemoteCopy(name: string): Promise<string> {
  const get = async (key: string) =>
    Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
  const bytes = await get(`${NAME}/${goodFile}`);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  const m = JSON.parse((await get(`${NAME}/${goodFile}.manifest.json`)).toString('utf8'));
  const manifest = {
    ...m,
    file: name,
    backup: { ...m.backup, file: name },
    object: { ...m.object, key: `${NAME}/${name}`, serverChecksum: undefined },
  };
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${NAME}/${name}`, Body: bytes }));
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${NAME}/${name}.manifest.json`, Body: JSON.stringify(manifest) }));
  return name;
}

/** A restore waiting at its confirmation gate, for the approve/reject rows. */
async function restoreWaitingAtGate(): Promise<void> {
  const started = await e2e.cli('restore', goodFile);
  assert.equal(started.exitCode, 4, `restore should wait at its gate: ${started.stdout}${started.stderr}`);
}

// ---------------------------------------------------------------------------------------
// The catalogue. `args` are the CLI arguments (a function may prepare files first); `around`
// wraps the run (e.g. a broken env file); `config` replaces day2.yaml; `local` rows fail in
// the CLI before any workflow starts, so they may run side by side.
// ---------------------------------------------------------------------------------------
interface Row {
  command: string;
  input: string;
  args: string[] | (() => string[] | Promise<string[]>);
  exit: number;
  message: RegExp;
  config?: () => string;
  around?: <T>(fn: () => Promise<T>) => Promise<T>;
  local?: boolean;
}
type RowOptions = Pick<Row, 'config' | 'around' | 'local'>;
const row = (command: string, input: string, args: Row['args'], exit: number, message: RegExp, opts: RowOptions = {}): Row => ({
  command,
  input,
  args,
  exit,
  message,
  ...opts,
});
const local = { local: true } as const;
const env = (change: (text: string) => string | null): RowOptions => ({ around: (fn) => withEnvFile(change, fn) });

/** day2.yaml with bi on backup.method pgbackrest (refused by the CLI before any workflow starts). */
function pgbrConfig(extra: Record<string, unknown> = {}, offsite?: Record<string, unknown> | null): RowOptions {
  return {
    ...local,
    config: () =>
      configVariant(
        `pgbr-${Object.keys(extra).join('-') || 'plain'}-${offsite === null ? 'no' : offsite ? 'http' : 'same'}-offsite`,
        (c) => {
          const { offsite: current, ...backup } = c.deployments.bi.backup ?? {};
          const chosen = offsite === null ? undefined : (offsite ?? current);
          return {
            ...c,
            deployments: {
              bi: {
                ...c.deployments.bi,
                backup: {
                  ...backup,
                  ...(chosen ? { offsite: chosen } : {}),
                  method: 'pgbackrest',
                  pgbackrest: { stanza: 'bi', repoPath: '/tmp/day2-bi-repo', dataDir: '/tmp/day2-bi-data', ...extra },
                },
              },
            },
          };
        },
      ),
  };
}
const pgbr = pgbrConfig();

const D = '2001-01-01';
const ROWS: Row[] = [
  // day2.yaml itself (every command loads it first; shown with `backup` and `status`)
  row('config', 'config file missing', ['backup'], 2, /config file .*not found/, {
    ...local,
    config: () => path.join(e2e.dir, 'nope.yaml'),
  }),
  row('config', 'malformed YAML', ['backup'], 2, /not valid YAML/, {
    ...local,
    config: () => configVariant('malformed', () => 'deployments:\n  bi: [unclosed\n'),
  }),
  row(
    'config',
    'unknown key in a deployment (misspelt backup)',
    ['status'],
    2,
    /deployments\.bi\.backups: unknown key — did you mean backup\?/,
    {
      ...local,
      config: () => configVariant('unknown-key', (c) => ({ ...c, deployments: { bi: { ...c.deployments.bi, backups: { dir: 'x' } } } })),
    },
  ),
  row('config', 'misspelt top-level key (temporl:)', ['status'], 2, /: temporl: unknown key — did you mean temporal\?/, {
    ...local,
    config: () => configVariant('unknown-top', (c) => ({ ...c, temporl: { address: '127.0.0.1:1' } })),
  }),
  row(
    'config',
    'misspelt key in upgrade (autoRolback)',
    ['status'],
    2,
    /deployments\.bi\.upgrade\.autoRolback: unknown key — did you mean autoRollback\?/,
    {
      ...local,
      config: () =>
        configVariant('unknown-upgrade', (c) => ({ ...c, deployments: { bi: { ...c.deployments.bi, upgrade: { autoRolback: true } } } })),
    },
  ),
  row('config', 'wrong type (a URL that is not one)', ['status'], 2, /deployments\.bi\.health\.ready: expected a URL/, {
    ...local,
    config: () => configVariant('not-url', (c) => ({ ...c, deployments: { bi: { ...c.deployments.bi, health: { ready: 'not a url' } } } })),
  }),
  row(
    'config',
    'databaseVia: exec without a databaseService',
    ['status'],
    2,
    /deployments\.bi\.runtime\.databaseVia: 'exec' runs the PostgreSQL tools inside the compose service named by databaseService, and no databaseService is set: name the database service, or use databaseVia: url/,
    {
      ...local,
      config: () =>
        configVariant('exec-no-service', (c) => ({
          ...c,
          deployments: { bi: { ...c.deployments.bi, runtime: { kind: 'compose', databaseVia: 'exec' } } },
        })),
    },
  ),
  row('config', 'codec key file missing', ['status'], 2, /temporal\.codec\.keyFile: cannot read .*ENOENT/, {
    ...local,
    config: () => configVariant('codec-missing', (c) => ({ ...c, temporal: { ...c.temporal, codec: { keyFile: 'no-such-keys.json' } } })),
  }),
  row('config', 'unknown command', ['bakup'], 2, /unknown command 'bakup'/, local),

  // backup
  row('backup', 'unknown deployment', ['backup', '--deployment', 'nope'], 2, /unknown deployment 'nope'.*known deployments: bi/, local),
  row('backup', '--keep 0', ['backup', '--keep', '0'], 2, /'0' is not a positive whole number/, local),
  row('backup', '--keep abc', ['backup', '--keep', 'abc'], 2, /'abc' is not a positive whole number/, local),
  row(
    'backup',
    'database unreachable (closed port)',
    ['backup'],
    2,
    /cannot reach the database bi@127\.0\.0\.1:\d+ \(ECONNREFUSED\).*nothing was changed/,
    env((t) =>
      setVar(
        'DATABASE_URL',
        urlWith((u) => (u.port = String(closedPort))),
      )(t),
    ),
  ),
  row(
    'backup',
    'wrong credentials',
    ['backup'],
    2,
    /database bi@127\.0\.0\.1:\d+ refused day2 \(login refused: role "intruder" does not exist\)/,
    env((t) =>
      setVar(
        'DATABASE_URL',
        urlWith((u) => ((u.username = 'intruder'), (u.password = WRONG_PASSWORD))),
      )(t),
    ),
  ),
  row(
    'backup',
    'database does not exist',
    ['backup'],
    2,
    /refused day2 \(no such database: database "bi_gone" does not exist\)/,
    env((t) =>
      setVar(
        'DATABASE_URL',
        urlWith((u) => (u.pathname = '/bi_gone')),
      )(t),
    ),
  ),
  row(
    'backup',
    'DATABASE_URL missing from the env file',
    ['backup'],
    2,
    /DATABASE_URL is not set in .*\.env/,
    env(dropVar('DATABASE_URL')),
  ),
  row(
    'backup',
    'env file missing',
    ['backup'],
    2,
    /env file .*\.env not found/,
    env(() => null),
  ),

  // restore
  row(
    'restore',
    'path traversal',
    ['restore', '../../etc/passwd', '--yes'],
    2,
    /backup name '\.\.\/\.\.\/etc\/passwd' is not a bare file name/,
    local,
  ),
  row('restore', 'absolute path', ['restore', '/etc/passwd', '--yes'], 2, /backup name '\/etc\/passwd' is not a bare file name/, local),
  row('restore', 'hidden file name', ['restore', '.env', '--yes'], 2, /not a bare file name/, local),
  row('restore', 'unknown deployment', ['restore', 'x.dump', '--deployment', 'nope', '--yes'], 2, /unknown deployment 'nope'/, local),
  row('restore', '--gate-timeout abc', ['restore', 'x.dump', '--gate-timeout', 'abc'], 2, /'abc' is not a positive whole number/, local),
  row(
    'restore',
    '--to-time on a pg_dump deployment',
    ['restore', '--to-time', '2026-01-01T00:00:00Z', '--yes'],
    2,
    /bi uses backup\.method pg_dump: a dump restores to the moment it was taken/,
    local,
  ),
  row(
    'restore',
    '--to-time without a zone (pgbackrest)',
    ['restore', '--to-time', '2026-01-01T00:00:00', '--yes'],
    2,
    /is not an ISO time with a zone/,
    pgbr,
  ),
  row(
    'restore',
    '--to-time in the future (pgbackrest)',
    ['restore', '--to-time', '2999-01-01T00:00:00Z', '--yes'],
    2,
    /is in the future/,
    pgbr,
  ),
  row('restore', '--to-lsn not an LSN (pgbackrest)', ['restore', '--to-lsn', '3000060', '--yes'], 2, /'3000060' is not an LSN/, pgbr),
  row(
    'rollback',
    '--to-lsn on a pg_dump deployment',
    ['rollback', '--to-lsn', '0/3000060', '--yes'],
    2,
    /--to-lsn is for backup\.method pgbackrest/,
    local,
  ),
  row(
    'rollback',
    'a dump file on a pgbackrest deployment',
    ['rollback', '--backup', 'x.dump', '--yes'],
    2,
    /bi uses backup\.method pgbackrest: a rollback recovers the cluster to a point, not a dump file/,
    pgbr,
  ),
  row('backup', '--type on a pg_dump deployment', ['backup', '--type', 'incr'], 2, /--type is for backup\.method pgbackrest/, local),
  row(
    'config',
    'pgbackrest repo: offsite without backup.offsite',
    ['status'],
    2,
    /deployments\.bi\.backup\.pgbackrest\.repo: repo: offsite puts the repository in the backup\.offsite bucket, and there is no backup\.offsite/,
    pgbrConfig({ repo: 'offsite' }, null),
  ),
  row(
    'config',
    'pgbackrest repo: offsite on an http endpoint',
    ['status'],
    2,
    /pgBackRest reaches S3 over TLS only: backup\.offsite\.endpoint must be an https URL/,
    pgbrConfig(
      { repo: 'offsite' },
      { kind: 's3', endpoint: 'http://127.0.0.1:9', bucket: 'day2-bi', accessKeyIdVar: 'A', secretAccessKeyVar: 'B' },
    ),
  ),
  row('restore', 'missing file', ['restore', `bi-${D}-000000.dump`, '--yes'], 2, /backup bi-2001-01-01-000000\.dump not found/),
  row('restore', 'no manifest', () => ['restore', backupCopy(`bi-${D}-000001.dump`, undefined, () => null), '--yes'], 2, /has no manifest/),
  row(
    'restore',
    'manifest not JSON',
    () => ['restore', backupCopy(`bi-${D}-000002.dump`, undefined, () => '{"file": '), '--yes'],
    2,
    /cannot be used: .*(JSON|manifest)/i,
  ),
  row(
    'restore',
    'renamed (manifest names another file)',
    () => ['restore', backupCopy(`bi-${D}-000003.dump`, undefined, (m) => m), '--yes'],
    2,
    /its manifest describes bi-\d{4}-/,
  ),
  row(
    'restore',
    "another deployment's backup",
    () => [
      'restore',
      backupCopy(`bi-${D}-000004.dump`, undefined, (m) => ({ ...m, file: `bi-${D}-000004.dump`, deployment: 'other' })),
      '--yes',
    ],
    2,
    /belongs to deployment 'other', not 'bi'/,
  ),
  row(
    'restore',
    'empty file (0 bytes), manifest of the original',
    () => ['restore', backupCopy(`bi-${D}-000005.dump`, (p) => truncateSync(p, 0)), '--yes'],
    2,
    /its size is 0 bytes but its manifest says \d+/,
  ),
  row(
    'restore',
    'empty file (0 bytes), manifest rewritten to match',
    () => ['restore', backupCopy(`bi-${D}-000006.dump`, (p) => truncateSync(p, 0), consistent(`bi-${D}-000006.dump`)), '--yes'],
    2,
    /not a readable pg_dump archive/,
  ),
  row(
    'restore',
    'truncated, manifest of the original',
    () => ['restore', backupCopy(`bi-${D}-000007.dump`, (p) => truncateSync(p, Math.floor(statSync(p).size / 2))), '--yes'],
    2,
    /its size is \d+ bytes but its manifest says \d+ \(truncated or altered\)/,
  ),
  row(
    'restore',
    'truncated, manifest rewritten to match',
    () => [
      'restore',
      backupCopy(`bi-${D}-000008.dump`, (p) => truncateSync(p, Math.floor(statSync(p).size / 2)), consistent(`bi-${D}-000008.dump`)),
      '--yes',
    ],
    2,
    /not a readable pg_dump archive|truncated|corrupt/,
  ),
  row(
    'restore',
    'tampered (one byte flipped)',
    () => ['restore', backupCopy(`bi-${D}-000009.dump`, flipByte), '--yes'],
    2,
    /its SHA-256 checksum is [0-9a-f]{12}… but its manifest says [0-9a-f]{12}… \(altered on disk\)/,
  ),
  row(
    'restore',
    'foreign archive, manifest claims this database',
    async () => ['restore', await foreignArchive(`bi-${D}-000010.dump`, true), '--yes'],
    2,
    /the archive is a dump of database 'bi_foreign' but its manifest says 'bi'/,
  ),
  row(
    'restore',
    'foreign archive, truthful manifest',
    async () => ['restore', await foreignArchive(`bi-${D}-000011.dump`, false), '--yes'],
    2,
    /it is a dump of database 'bi_foreign', but bi's database is 'bi'/,
  ),
  row(
    'restore',
    'database unreachable (closed port)',
    () => ['restore', goodFile, '--yes'],
    2,
    /cannot reach the database bi@127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    env((t) =>
      setVar(
        'DATABASE_URL',
        urlWith((u) => (u.port = String(closedPort))),
      )(t),
    ),
  ),
  row(
    'restore',
    'wrong credentials',
    () => ['restore', goodFile, '--yes'],
    2,
    /refused day2 \(login refused: role "intruder" does not exist\)/,
    env((t) =>
      setVar(
        'DATABASE_URL',
        urlWith((u) => ((u.username = 'intruder'), (u.password = WRONG_PASSWORD))),
      )(t),
    ),
  ),

  row(
    'restore',
    '--remote: a copy the bucket does not have',
    ['restore', '--remote', `bi-${D}-000020.dump`, '--yes'],
    2,
    /no off-site copy bi-2001-01-01-000020\.dump in s3:\/\/day2-bi\/bi\/ \(or it has no manifest: incomplete\)/,
  ),
  row(
    'restore',
    '--remote latest: the bucket unreachable (closed port)',
    ['restore', '--remote', 'latest', '--yes'],
    2,
    /cannot reach the S3 server http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) while trying to list bucket 'day2-bi'; nothing was changed/,
    offsiteChanged({ endpoint: 'http://127.0.0.1:9' }),
  ),

  // drill (verified like a restore's archive before any scratch cluster starts)
  row(
    'drill',
    'path traversal',
    ['drill', '--backup', '../../etc/passwd'],
    2,
    /backup name '\.\.\/\.\.\/etc\/passwd' is not a bare file name/,
    local,
  ),
  row('drill', 'missing file', ['drill', '--backup', `bi-${D}-000000.dump`], 2, /backup bi-2001-01-01-000000\.dump not found/),
  row(
    'drill',
    'tampered (one byte flipped)',
    () => ['drill', '--backup', backupCopy(`bi-${D}-000012.dump`, flipByte)],
    2,
    /its SHA-256 checksum is [0-9a-f]{12}… but its manifest says [0-9a-f]{12}… \(altered on disk\)/,
  ),
  row(
    'drill',
    'foreign archive, truthful manifest',
    async () => ['drill', '--backup', await foreignArchive(`bi-${D}-000013.dump`, false)],
    2,
    /it is a dump of database 'bi_foreign', but bi's database is 'bi'/,
  ),
  row(
    'drill',
    '--remote: a copy tampered with in the bucket (one byte flipped)',
    async () => ['drill', '--remote', await tamperedRemoteCopy(`bi-${D}-000021.dump`)],
    2,
    /off-site copy bi-2001-01-01-000021\.dump cannot be used: its SHA-256 in the bucket is [0-9a-f]{12}… but its manifest says [0-9a-f]{12}… \(altered\); nothing was changed/,
  ),

  // preflight
  row('preflight', 'unknown deployment', ['preflight', '--deployment', 'nope'], 2, /unknown deployment 'nope'/, local),

  // upgrade (the release checks are in test/e2e/upgrade.test.ts; this is the one a config causes)
  row(
    'upgrade',
    'env file fails preflight (a required variable missing): refused before anything is pulled or stopped',
    ['upgrade', '1.1.0'],
    2,
    /preflight failed before the upgrade changed anything: env file has the required variables: .*PORT.*--ask-on-failed-preflight/,
    env(dropVar('PORT')),
  ),

  // support-bundle
  row('support-bundle', 'unknown deployment', ['support-bundle', '--deployment', 'nope'], 2, /unknown deployment 'nope'/, local),

  // status
  row('status', 'unknown workflow id', ['status', 'day2-nope'], 2, /no workflow 'day2-nope'/, local),

  // approve / reject (a restore waits at confirm-restore from here on)
  row(
    'approve',
    'gate that does not exist',
    async () => (await restoreWaitingAtGate(), ['approve', 'day2-bi', '--gate', 'nope', '--reason', 'x']),
    2,
    /there is no gate 'nope'.*confirm-restore/,
  ),
  row('reject', 'gate that does not exist', ['reject', 'day2-bi', '--gate', 'nope', '--reason', 'x'], 2, /there is no gate 'nope'/, local),
  row(
    'approve',
    'no reason given',
    ['approve', 'day2-bi', '--gate', 'confirm-restore'],
    2,
    /a reason is required to approve a gate — pass --reason "<why>" .*nothing was sent/,
    local,
  ),
  row(
    'approve',
    'unknown workflow id',
    ['approve', 'day2-nope', '--gate', 'confirm-restore', '--reason', 'x'],
    2,
    /no workflow 'day2-nope'/,
    local,
  ),
  row(
    'approve',
    'a real gate it is not waiting at (refusal)',
    ['approve', 'day2-bi', '--gate', 'confirm-rollback', '--reason', 'x'],
    3,
    /not waiting at gate 'confirm-rollback'.*confirm-restore/s,
  ),
  row(
    'backup',
    'while another operation holds the deployment (refusal)',
    ['backup'],
    3,
    /deployment bi is busy: restore .*waiting at gate 'confirm-restore' \(workflow day2-bi, run [0-9a-f-]+\)/,
  ),
];

const WRONG_PASSWORD = `wrong-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 16)}`;

function flipByte(p: string): void {
  const bytes = readFileSync(p);
  bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
  writeFileSync(p, bytes);
}

// ---------------------------------------------------------------------------------------

async function databases(): Promise<string[]> {
  return withAdmin(e2e.pg.adminUrl, async (c) =>
    (
      await c.query<{ datname: string }>(`select datname from pg_database where datname like 'bi%' and datname <> 'bi_foreign' order by 1`)
    ).rows.map((r) => r.datname),
  );
}
const partials = () => readdirSync(backupDir()).filter((f) => f.includes('.partial'));
/** The backup directory minus the damaged copies the rows plant (all dated 2001). */
const realBackups = () =>
  readdirSync(backupDir())
    .filter((f) => !f.includes(D))
    .sort();

interface Observed {
  row: Row;
  result: CliResult;
  ms: number;
}

async function runRow(r: Row): Promise<Observed> {
  const go = async () => {
    const args = typeof r.args === 'function' ? await r.args() : r.args;
    const started = Date.now();
    const result = await runCli(r.config?.() ?? e2e.deployment.configFile, args);
    return { row: r, result, ms: Date.now() - started };
  };
  return r.around ? r.around(go) : go();
}

const observed: Observed[] = [];
let liveBefore: Record<string, string>;
let dbsBefore: string[];
let backupsBefore: string[];

before(async () => {
  e2e = await startE2E(NAME);
  closedPort = await freePort(); // nothing listens there
  recordTestSecrets(WRONG_PASSWORD);
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  setOffsite(offsiteSection());
  appendFileSync(e2e.deployment.envFile, `S3_ACCESS_KEY_ID=${s3.accessKeyId}\nS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}\n`);
  await e2e.startService(10);
  await e2e.startWorker();
  goodFile = await e2e.backup();
  liveBefore = await tableChecksums(liveUrl());
  dbsBefore = await databases();
  backupsBefore = realBackups();
});

after(async () => {
  // Let the waiting restore go (rejected: nothing changes), then tear down.
  await e2e?.cli('reject', e2e.workflowId, '--reason', 'bad-input test done').catch(() => {});
  await e2e?.teardown();
  await s3?.stop();
});

describe('bad-input catalogue', () => {
  test(`${ROWS.length} bad inputs: clear message, the documented exit code, live database unchanged`, async () => {
    const failures: string[] = [];
    const check = async (o: Observed) => {
      const out = `${o.result.stdout}\n${o.result.stderr}`;
      const problems: string[] = [];
      if (o.result.exitCode !== o.row.exit) problems.push(`exit ${o.result.exitCode}, expected ${o.row.exit}`);
      if (!o.row.message.test(out)) problems.push(`message does not match ${o.row.message}`);
      if (problems.length)
        failures.push(`${o.row.command} / ${o.row.input}: ${problems.join('; ')}\n${out.trim().split('\n').slice(-4).join('\n')}`);
      observed.push(o);
    };
    // Rows that fail inside the CLI cannot touch the deployment: they run beside the others,
    // which run one by one in table order, each followed by a look at the live data.
    const changedBy: string[] = [];
    await Promise.all([
      (async () => {
        for (const r of ROWS.filter((x) => x.local)) await check(await runRow(r));
      })(),
      (async () => {
        for (const r of ROWS.filter((x) => !x.local)) {
          await check(await runRow(r));
          if (JSON.stringify(await tableChecksums(liveUrl())) !== JSON.stringify(liveBefore)) changedBy.push(`${r.command} / ${r.input}`);
        }
      })(),
    ]);
    assert.deepEqual(changedBy, [], 'live data changed');
    assert.deepEqual(await tableChecksums(liveUrl()), liveBefore, 'live data changed');
    assert.deepEqual(await databases(), dbsBefore, 'databases created or dropped');
    assert.deepEqual(partials(), [], 'partial files left behind');
    assert.deepEqual(realBackups(), backupsBefore, 'backups written or deleted');
    writeCatalogue();
    console.log(
      observed
        .map((o) => `  ${(o.ms / 1000).toFixed(1).padStart(5)} s  exit ${o.result.exitCode}  ${o.row.command} / ${o.row.input}`)
        .join('\n'),
    );
    assert.deepEqual(failures, [], `\n${failures.join('\n\n')}`);
  });
});

/** docs/bad-input.md: the catalogue as the README shows it, with the messages observed. */
function writeCatalogue(): void {
  const byTable = new Map(ROWS.map((r, i) => [r, i]));
  const rows = [...observed].sort((a, b) => byTable.get(a.row)! - byTable.get(b.row)!);
  const clean = (s: string) =>
    s
      .replaceAll(e2e.dir, '<dir>')
      .replaceAll(repoRoot, '<repo>')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<run-id>')
      .replace(/[0-9a-f]{12}…/g, '<sha256>…')
      .replace(/size is [1-9]\d* bytes/g, 'size is <n> bytes')
      .replace(/manifest says \d+ /g, 'manifest says <n> ')
      .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, '<time>')
      .replace(/bi-20\d\d-\d\d-\d\d-\d{6}\.dump/g, (m) => (m.includes(D) ? m : 'bi-<stamp>.dump'))
      .replace(/\|/g, '\\|');
  const message = (r: CliResult) => {
    const lines = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim());
    const line =
      lines.find((l) => l.startsWith('day2:') || l.startsWith('error:')) ??
      lines.find((l) => l.startsWith('✗')) ??
      lines.find(Boolean) ??
      '';
    return clean(line).slice(0, 400);
  };
  const lines = [
    '# Bad-input catalogue',
    '',
    'Generated by `test/e2e/bad-input.test.ts`: each row is run with the CLI against a live',
    "deployment, and the live database's per-table checksums, its list of databases and the",
    'backup directory are compared before and after: nothing is ever touched.',
    '',
    '- **Exit 2, bad input**: retrying the same command can never work; fix the input. This',
    '  includes a gate name no day2 workflow has, a workflow id that does not exist, and a',
    '  database that cannot be reached or refuses the login *when an operation starts* (backup',
    '  and restore probe it before touching anything). A refused login or a missing database',
    '  fails at once; a refused connection or a timeout is retried by the activity policy',
    '  (4 attempts, about 7 s, so a database restart is ridden out) and then reported. Losing the',
    '  database in the middle of an operation is not bad input: that operation fails (exit 1)',
    '  and says what it kept.',
    '- **Exit 3, refused**: the same command can succeed later: the deployment is busy with',
    '  another operation (named), or the workflow is not waiting at that (real) gate yet, or',
    '  any more.',
    '',
    '| command | bad input | exit | message |',
    '|---|---|---|---|',
    ...rows.map((o) => `| \`${o.row.command}\` | ${o.row.input} | ${o.result.exitCode} | \`${message(o.result).replace(/`/g, "'")}\` |`),
    '',
  ];
  mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'docs', 'bad-input.md'), lines.join('\n'));
}
