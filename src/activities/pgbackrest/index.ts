// The pgBackRest method's activities (backup.method: pgbackrest). Each takes the deployment
// name and reads its settings from the config; each is safe to run twice.
import type {
  ArchivingHealth,
  ClusterFacts,
  PgbackrestBackupType,
  PitrPlan,
  PreUpgradePoint,
  RestoreTarget,
} from '../../domain/pgbackrest';
import { BadInputError } from '../../domain/errors';
import type { ActivityDeps } from '../shared/deps';
import { archivingHealth, configureArchiving, writePgbackrestConf, type ArchivingChange } from './archiving';
import { createStanzaAndCheck, expireBackups, takeBackup } from './backup';
import { inspectCluster, pgbackrestOf, serverLogOf, startClusterAsBefore, stopCluster } from './cluster';
import { drillPitr } from './drill';
import {
  discardNewDir,
  planPitr,
  restoreDirsOf,
  restoreIntoNewDir,
  startLiveAndWaitPromoted,
  stopLiveCluster,
  swapInNewDir,
  verifyRestoredDir,
} from './restore';
import { markRecoveryPoint, readRecoveryPoint } from './recovery-point';
import { pgbackrestInstalled } from './run';

interface On {
  deployment: string;
}

export function pgbackrestActivities({ resolve, logger }: ActivityDeps) {
  const of = (deployment: string) => {
    const d = resolve(deployment);
    return { d, c: pgbackrestOf(d, deployment) };
  };
  return {
    /** Refuses a server day2 may not configure (names what it needs); writes the stanza's config file. */
    async prepareArchiving({ deployment }: On): Promise<ClusterFacts & ArchivingChange & { configFile: string; configChanged: boolean }> {
      if (!(await pgbackrestInstalled()))
        throw new BadInputError(
          "pgbackrest is not installed on the worker's host",
          'apt-get install -y pgbackrest (or npx tsx scripts/ensure-tools.ts as root)',
        );
      const { d, c } = of(deployment);
      const facts = await inspectCluster(d, c);
      const { file, changed: configChanged } = await writePgbackrestConf(d, deployment, c, facts);
      const change = await configureArchiving(d, c, facts);
      logger.info({ deployment, ...change }, 'archiving configured');
      return { ...facts, ...change, configFile: file, configChanged };
    },
    /** The restart archive_mode needs: fast stop, start as before; a no-op once no setting waits for one. */
    async restartForArchiving({ deployment }: On): Promise<{ restarted: boolean }> {
      const { d, c } = of(deployment);
      const facts = await inspectCluster(d, c).catch(() => undefined);
      if (facts && facts.pendingRestart.length === 0) return { restarted: false };
      await stopCluster(c.dataDir);
      await startClusterAsBefore(c.dataDir, serverLogOf(c));
      return { restarted: true };
    },
    async checkArchiving({ deployment }: On): Promise<ArchivingHealth> {
      return archivingHealth(resolve(deployment));
    },
    /** `force`: archiving or the config file just changed, so check even a used stanza. */
    async createStanza({ deployment, force }: On & { force?: boolean }): Promise<string> {
      return createStanzaAndCheck(of(deployment).c, force ?? true);
    },
    async takePgbackrestBackup({ deployment, runId, type }: On & { runId: string; type: PgbackrestBackupType }) {
      const result = await takeBackup(of(deployment).c, runId, type);
      logger.info({ deployment, label: result.backup.label, type: result.backup.type, reused: result.reused }, 'pgbackrest backup');
      return result;
    },
    async expirePgbackrestBackups({ deployment }: On): Promise<string[]> {
      return expireBackups(of(deployment).c);
    },
    async planPitrRestore({ deployment, target }: On & { target: RestoreTarget }): Promise<PitrPlan> {
      const { d, c } = of(deployment);
      return planPitr(d, c, target);
    },
    async restorePitrIntoNewDir({ deployment, args, stamp }: On & { args: string[]; stamp: string }) {
      const { c } = of(deployment);
      const { newDir } = restoreDirsOf(c, stamp);
      return { newDir, ...(await restoreIntoNewDir(c, { args }, newDir)) };
    },
    async verifyPitrRestore({ deployment, stamp }: On & { stamp: string }): Promise<Record<string, string>> {
      const { d, c } = of(deployment);
      return verifyRestoredDir(d, c, restoreDirsOf(c, stamp).newDir);
    },
    async discardPitrRestore({ deployment, stamp }: On & { stamp: string }): Promise<void> {
      const { c } = of(deployment);
      await discardNewDir(restoreDirsOf(c, stamp).newDir);
    },
    async stopLiveCluster({ deployment }: On): Promise<void> {
      await stopLiveCluster(of(deployment).c);
    },
    async swapInRestoredDataDir({ deployment, stamp }: On & { stamp: string }) {
      const { c } = of(deployment);
      const { newDir, keepAs } = restoreDirsOf(c, stamp);
      return swapInNewDir(c, newDir, keepAs);
    },
    /** Starts the live cluster as it last ran (after a swap, or to undo a stop). */
    async startLiveCluster({ deployment }: On): Promise<{ promotedAfterMs: number }> {
      const { d, c } = of(deployment);
      return startLiveAndWaitPromoted(d, c);
    },
    /** After the worker stopped, before the first migration: where a rollback recovers to. */
    async markPreUpgradePoint({
      deployment,
      ...run
    }: On & { workflowId: string; version: string; backupLabel: string }): Promise<PreUpgradePoint> {
      const point = await markRecoveryPoint(resolve(deployment), run);
      logger.info({ deployment, lsn: point.lsn, at: point.at }, 'pre-upgrade recovery point');
      return point;
    },
    async readPreUpgradePoint({ deployment }: On): Promise<PreUpgradePoint | null> {
      return readRecoveryPoint(resolve(deployment));
    },
    async drillPitr({ deployment, target, runId }: On & { target: RestoreTarget; runId: string }) {
      const { d, c } = of(deployment);
      return drillPitr(d, c, target, runId);
    },
  };
}
