/**
 * POST /api/v1/backups/runHealthcheck (1.3-rev1 and later): a health check of
 * whole backups, on demand. Each backup gets its own FileBackupHealthCheck
 * session (the reply is Veeam's SessionsResult), which runs the check the
 * jobs' scheduled `backupHealth` runs (injected: the jobs section's
 * runHealthCheck over the chunk store's verify), so corrupt chunks are
 * quarantined and the log names each damaged restore point the same way.
 */
import type { ChunkStore, RestorePointRef } from '../../chunkstore/index.js';
import { badRequest } from '../../http/errors.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionRunner } from '../../sessions/runner.js';
import { refOf } from './model.js';
import type { BackupRow } from './model.js';
import type { BackupsService } from './service.js';

export type HealthCheckRun = (ctx: SessionContext, checks: Array<{ store: ChunkStore; refs: Array<RestorePointRef & { vmName: string }> }>, passwords: string[]) => Promise<number>;

export interface BackupHealthCheckDeps {
  backups: BackupsService;
  runner: SessionRunner;
  openRepository(repositoryId: string): Promise<ChunkStore>;
  /** Every encryption password the vault holds: an encrypted point is checked with the one it was made with. */
  encryptionPasswords(): Promise<string[]>;
  check: HealthCheckRun;
}

export interface HealthCheckRequest {
  backupIds?: string[];
  jobIds?: string[];
  isRepair?: boolean;
  createdBy?: string;
}

export class BackupHealthCheck {
  constructor(private readonly deps: BackupHealthCheckDeps) {}

  /** Checks every reference first (400 naming the first bad one), then starts one session per backup. */
  async start(request: HealthCheckRequest): Promise<SessionRecord[]> {
    // Repair would rewrite data from the source; Rampart's answer to a corrupt chunk is the next (active full) backup, which stores it again.
    if (request.isRepair)
      throw badRequest('Invalid field "isRepair": Rampart does not repair backups; the health check quarantines corrupt chunks and the next backup of the job stores them again.');
    const backupIds = request.backupIds ?? [];
    const jobIds = request.jobIds ?? [];
    if (backupIds.length === 0 && jobIds.length === 0) throw badRequest('Invalid request body: specify at least one backup ID ("backupIds") or job ID ("jobIds").');
    const chosen = new Map<string, BackupRow>();
    for (const [i, id] of backupIds.entries()) {
      const backup = await this.deps.backups.getBackup(id).catch(() => {
        throw badRequest(`Invalid field "backupIds[${i}]": backup ${id} was not found.`, id);
      });
      chosen.set(backup.id, backup);
    }
    for (const [i, id] of jobIds.entries()) {
      const backups = await this.deps.backups.backupsOfJob(id);
      if (backups.length === 0) throw badRequest(`Invalid field "jobIds[${i}]": no backup of job ${id} was found.`, id);
      for (const backup of backups) chosen.set(backup.id, backup);
    }
    const sessions: SessionRecord[] = [];
    for (const backup of chosen.values()) sessions.push(await this.startOne(backup, request.createdBy));
    return sessions;
  }

  private async startOne(backup: BackupRow, createdBy?: string): Promise<SessionRecord> {
    const spec = {
      name: `Health Check "${backup.name}"`,
      type: 'FileBackupHealthCheck' as const,
      resourceId: backup.id,
      resourceReference: `/api/v1/backups/${backup.id}`,
      createdBy,
    };
    return this.deps.runner.start(spec, async (ctx) => {
      const points = await this.deps.backups.restorePointsOfBackup(backup.id);
      const objects = new Map((await this.deps.backups.objectsOfBackup(backup.id)).map((o) => [o.id, o.name]));
      const refs = points.flatMap((p) => {
        const ref = refOf(p.location);
        return ref ? [{ ...ref, vmName: objects.get(p.backup_object_id) ?? p.name }] : [];
      });
      await ctx.log(`Health check of backup "${backup.name}": ${refs.length} restore point(s)`);
      const store = await this.deps.openRepository(backup.repository_id);
      try {
        const damaged = await this.deps.check(ctx, [{ store, refs }], await this.deps.encryptionPasswords());
        if (damaged > 0) return { result: 'Failed', message: `Health check: ${damaged} corrupt restore point(s); run an active full backup to write their data again.` };
        return undefined;
      } finally {
        await store.backend.close().catch(() => undefined);
      }
    });
  }
}
