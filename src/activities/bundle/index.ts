// support-bundle.sh as an idempotent activity: every section is gathered into a staging
// folder named by the workflow run, packed into a `.partial` tarball, and linked to its
// final bare name (link, not rename: a bundle already there is never replaced). A retry
// that finds the finished bundle of its own run reports it instead of gathering again.
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import type { DeploymentConfig } from '../../config';
import { BadInputError } from '../../domain/errors';
import { bundleRootOf, isSupportBundleName } from '../../domain/support-bundle-names';
import type { BundleOmission, CheckResult, SupportBundleInput, SupportBundleResult } from '../../domain/types';
import { PRIVATE_FILE_MODE, fsyncDirectory, fsyncFile } from '../../lib/atomic-file';
import { packageRootOf } from '../../package-root';
import { digestFile, ensureBackupDir, fileExists } from '../shared/backup-files';
import { checksActivities } from '../checks';
import type { ActivityDeps } from '../shared/deps';
import { beat } from '../shared/heartbeat';
import { scrubSecrets } from '../shared/redact';
import { sha256Hex } from '../shared/secret-fingerprint';
import {
  databaseSection,
  envSection,
  healthSection,
  json,
  servicesSections,
  systemSection,
  type BundleFile,
  type Section,
} from './sections';

const MANIFEST = 'manifest.json';

interface BundleManifest {
  deployment: string;
  createdAt: string;
  workflowId: string;
  runId: string;
  day2Version: string;
  sections: CheckResult[];
  omitted: BundleOmission[];
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

export function supportBundleActivities(deps: ActivityDeps) {
  return {
    async createSupportBundle(input: SupportBundleInput): Promise<SupportBundleResult> {
      const d = deps.resolve(input.deployment);
      if (!isSupportBundleName(input.fileName)) throw new BadInputError(`'${input.fileName}' is not a support bundle name`);
      const dir = supportBundleDir(d);
      await ensureBackupDir(dir);
      const final = path.join(dir, input.fileName);
      const staging = path.join(dir, `.${input.fileName}.${input.runId}.partial`);
      const packed = `${staging}.tar.gz`;
      const reused = await fileExists(final);
      if (!reused) await writeBundle(deps, d, input, staging, packed, final);
      // This run's leftovers: a worker killed after publishing leaves them for the retry.
      await rm(packed, { force: true });
      await rm(staging, { recursive: true, force: true });
      await fsyncDirectory(dir);
      const manifest = await readBundleManifest(final).catch(() => undefined);
      if (manifest?.runId !== input.runId) {
        throw new BadInputError(
          `support bundle ${input.fileName} already exists and was not made by this run`,
          'start day2 support-bundle again for a new one',
        );
      }
      const result = await describe(final, manifest, reused);
      deps.logger.info({ deployment: input.deployment, file: input.fileName, bytes: result.bytes, reused }, 'support bundle written');
      return result;
    },
  };
}

/** Gathers every section into `staging`, packs it, and publishes it as `final`. */
async function writeBundle(
  deps: ActivityDeps,
  d: DeploymentConfig,
  input: SupportBundleInput,
  staging: string,
  packed: string,
  final: string,
): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  const root = path.join(staging, bundleRootOf(input.fileName));
  await mkdir(root, { recursive: true, mode: 0o700 });
  const { manifest, files } = await gather(deps, d, input);
  for (const file of [...files, { path: MANIFEST, text: json(manifest) }]) await writeBundleFile(root, file);
  beat({ bundle: 'packing' });
  // portable: no uid, gid or user names. It would also leave folders without an mtime (1970
  // in `tar tv`): every entry keeps the time it was written, that is, collected.
  const keepMtime = (entry: tar.WriteEntry) => void (entry.noMtime = false);
  await tar.create({ gzip: true, file: packed, cwd: staging, portable: true, onWriteEntry: keepMtime }, [path.basename(root)]);
  await chmod(packed, PRIVATE_FILE_MODE);
  await fsyncFile(packed);
  // link, not rename: whatever already has the final name is never replaced.
  await link(packed, final).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

/** `supportBundle.dir`, else `support-bundles` beside the env file. */
export function supportBundleDir(d: DeploymentConfig): string {
  return d.supportBundle.dir ?? path.join(path.dirname(d.envFile), 'support-bundles');
}

async function gather(
  deps: ActivityDeps,
  d: DeploymentConfig,
  input: SupportBundleInput,
): Promise<{ manifest: BundleManifest; files: BundleFile[] }> {
  const env = await envSection(d);
  const { secrets } = env;
  beat({ bundle: 'services' });
  const services = await servicesSections(d, deps.logger, d.supportBundle.logLines, secrets);
  beat({ bundle: 'database' });
  const database = await databaseSection(d, secrets);
  beat({ bundle: 'checks' });
  const checks = await checksSection(deps, input.deployment, secrets);
  const health = await healthSection(d, secrets);
  const day2Version = await day2PackageVersion();
  const system = await systemSection(d, day2Version);
  const sections: Section[] = [env, ...services, database, checks, health, system];
  const files = sections.flatMap((s) => s.files);
  const manifest: BundleManifest = {
    deployment: input.deployment,
    createdAt: input.createdAt,
    workflowId: input.workflowId,
    runId: input.runId,
    day2Version,
    sections: sections.map((s) => s.result),
    omitted: sections.flatMap((s) => s.omitted ?? []),
    files: files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.text), sha256: sha256Hex(f.text) })),
  };
  return { manifest, files };
}

/** preflight's checks, built-in and configured: migration state, versions, disk. */
async function checksSection(deps: ActivityDeps, deployment: string, secrets: string[]): Promise<Section> {
  const name = 'preflight checks';
  try {
    const results = (await checksActivities(deps).runDeploymentChecks({ deployment, set: 'preflight' })).map((c) => ({
      ...c,
      detail: scrubSecrets(c.detail, secrets),
    }));
    const failed = results.filter((c) => !c.ok).map((c) => c.name);
    const detail = failed.length ? `${failed.length} of ${results.length} failed: ${failed.join(', ')}` : `all ${results.length} passed`;
    // The section itself was collected: failing checks are findings, not a broken bundle.
    return { result: { name, ok: true, detail }, files: [{ path: 'checks.json', text: json(results) }] };
  } catch (err) {
    return { result: { name, ok: false, detail: scrubSecrets((err as Error).message, secrets) }, files: [] };
  }
}

async function writeBundleFile(root: string, file: BundleFile): Promise<void> {
  const target = path.join(root, file.path);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  await writeFile(target, file.text, { mode: PRIVATE_FILE_MODE });
}

/** The manifest inside a bundle, read without unpacking the rest. */
async function readBundleManifest(file: string): Promise<BundleManifest> {
  let text = '';
  await tar.list({
    file,
    onReadEntry: (entry) => {
      if (entry.path.split('/').slice(1).join('/') === MANIFEST) entry.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      else entry.resume();
    },
  });
  if (!text) throw new Error(`${path.basename(file)} has no ${MANIFEST}`);
  return JSON.parse(text) as BundleManifest;
}

async function describe(final: string, manifest: BundleManifest, reused: boolean): Promise<SupportBundleResult> {
  const { sha256, sizeBytes } = await digestFile(final);
  return {
    file: path.basename(final),
    path: final,
    bytes: sizeBytes,
    sha256,
    sections: manifest.sections,
    omitted: manifest.omitted,
    reused,
  };
}

let cachedVersion: string | undefined;
async function day2PackageVersion(): Promise<string> {
  cachedVersion ??= (JSON.parse(await readFile(path.join(packageRootOf(import.meta.url), 'package.json'), 'utf8')) as { version: string })
    .version;
  return cachedVersion;
}
