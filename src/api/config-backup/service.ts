import { randomUUID } from 'node:crypto';
import { applyRetention, beginRestorePoint, localFolderBackend, openChunkStore, type ChunkStore } from '../../chunkstore/index.js';
import { exportConfiguration } from '../../config-backup/archive.js';
import { removeUnreferencedData } from '../../mover/garbage.js';
import { CONFIG_BACKUP_ID, CONFIG_DISK_KEY, CONFIG_OBJECT_ID } from '../../config-backup/restore.js';
import { badRequest } from '../../http/errors.js';
import type { SessionRunner } from '../../sessions/runner.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { Store } from '../../store/database.js';
import { readSetting } from '../../store/settings.js';
import { nextRunOf } from '../jobs/schedule.js';
import type { EncryptionPasswordsService } from '../encryption-passwords/service.js';
import type { RepositoriesService } from '../repositories/service.js';
import { NO_PASSWORD_ID, type ConfigBackupSettings } from './schemas.js';

const SETTING_KEY = 'configBackup';
/** When the schedule next runs a backup (ISO time): claimed by compare-and-set, so one node of several runs it. */
const NEXT_RUN_KEY = 'configBackupNextRun';
const CHUNK_SIZE = 1024 * 1024;

export interface ConfigBackupDeps {
  store: Store;
  runner: SessionRunner;
  repositories: RepositoriesService;
  encryptionPasswords: EncryptionPasswordsService;
  dataDir: string;
  /** Garbage collection's grace window after retention (RAMPART_GC_GRACE_SECONDS); default 1 h. */
  gcGraceMs?: number;
}

/** Configuration backup: settings in one row, runs as ConfigurationBackup sessions writing into a repository's chunk store. */
export class ConfigBackupService {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<unknown> | undefined;

  constructor(private readonly deps: ConfigBackupDeps) {}

  /** Checks the schedule every `intervalMs` (as the job scheduler does for jobs). */
  startSchedule(intervalMs: number, onError: (err: Error) => void): void {
    this.timer = setInterval(() => {
      this.ticking ??= this.tick()
        .catch(onError)
        .finally(() => (this.ticking = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stopSchedule(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
  }

  /**
   * One look at the schedule: the next run is computed from `schedule` (daily or monthly,
   * read as a job's schedule is) and stored; once it has come, the node that moves it on
   * (compare-and-set on the stored value) starts the backup. Returns that session's id.
   */
  async tick(now = new Date()): Promise<string | undefined> {
    const settings = await this.get();
    const db = this.deps.store.db;
    const stored = await readSetting(db, NEXT_RUN_KEY);
    const next = settings.isEnabled && settings.schedule.isEnabled ? nextRunOf({ ...settings.schedule, runAutomatically: true }, now) : undefined;
    if (!next) {
      if (stored !== undefined) await db.deleteFrom('settings').where('key', '=', NEXT_RUN_KEY).execute();
      return undefined;
    }
    if (stored === undefined) {
      await db
        .insertInto('settings')
        .values({ key: NEXT_RUN_KEY, value: next.toISOString() })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      return undefined;
    }
    if (Date.parse(stored) > now.getTime()) return undefined;
    const claimed = await db.updateTable('settings').set({ value: next.toISOString() }).where('key', '=', NEXT_RUN_KEY).where('value', '=', stored).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return undefined;
    return (await this.backupNow('Scheduler')).id;
  }

  async get(): Promise<ConfigBackupSettings> {
    const stored = await readSetting(this.deps.store.db, SETTING_KEY);
    if (stored) return JSON.parse(stored) as ConfigBackupSettings;
    // Veeam's default target is the default repository; Rampart has none until one is added.
    const first = await this.deps.store.db.selectFrom('repositories').select('id').orderBy('name').executeTakeFirst();
    return {
      isEnabled: false,
      backupRepositoryId: first?.id ?? '00000000-0000-0000-0000-000000000000',
      restorePointsToKeep: 10,
      notifications: { SNMPEnabled: false },
      schedule: { isEnabled: false },
      lastSuccessfulBackup: {},
      encryption: { isEnabled: false },
    };
  }

  async update(input: ConfigBackupSettings): Promise<ConfigBackupSettings> {
    // The empty GUID a GET shows for "no password" comes back in a PUT: it means none.
    const spec = input.encryption.passwordId === NO_PASSWORD_ID ? { ...input, encryption: { isEnabled: input.encryption.isEnabled } } : input;
    await this.deps.repositories.get(spec.backupRepositoryId).catch(() => {
      throw badRequest(`backupRepositoryId: no repository ${spec.backupRepositoryId}.`, spec.backupRepositoryId);
    });
    if (spec.encryption.isEnabled) {
      if (!spec.encryption.passwordId) throw badRequest('encryption.passwordId: required when encryption is enabled.');
      await this.deps.encryptionPasswords.get(spec.encryption.passwordId).catch(() => {
        throw badRequest(`encryption.passwordId: no encryption password ${spec.encryption.passwordId}.`, spec.encryption.passwordId ?? undefined);
      });
    }
    // lastSuccessfulBackup is the server's record, not the client's.
    const current = await this.get();
    const next: ConfigBackupSettings = { ...spec, encryption: { ...spec.encryption }, lastSuccessfulBackup: current.lastSuccessfulBackup };
    if (!next.encryption.passwordId) delete next.encryption.passwordId;
    await this.save(next);
    // The schedule may have changed: the next tick computes its next run afresh.
    await this.deps.store.db.deleteFrom('settings').where('key', '=', NEXT_RUN_KEY).execute();
    return next;
  }

  private async save(settings: ConfigBackupSettings): Promise<void> {
    const value = JSON.stringify(settings);
    await this.deps.store.db
      .insertInto('settings')
      .values({ key: SETTING_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /** The repository as a chunk store (a folder of the backup server, as for backup jobs). */
  private async repositoryStore(id: string): Promise<{ store: ChunkStore; name: string }> {
    const row = await this.deps.repositories.get(id);
    const host = await this.deps.repositories.hostOf(row);
    if (!['WinLocal', 'LinuxLocal'].includes(row.type) || !host?.isBackupServer || !row.path) {
      throw badRequest(`backupRepositoryId: repository "${row.name}" (${row.type}) cannot hold Rampart backups yet: use a folder on the backup server itself.`, id);
    }
    return { store: await openChunkStore(localFolderBackend(row.path), { create: true }), name: row.name };
  }

  /** POST /configBackup/backup: starts a ConfigurationBackup session now. */
  async backupNow(createdBy?: string): Promise<SessionRecord> {
    const settings = await this.get();
    const { store, name } = await this.repositoryStore(settings.backupRepositoryId);
    const password = settings.encryption.isEnabled && settings.encryption.passwordId ? await this.deps.encryptionPasswords.passwordFor(settings.encryption.passwordId) : undefined;
    const session = await this.deps.runner.start({ name: 'Configuration Backup', type: 'ConfigurationBackup', createdBy }, async (ctx) => {
      const archive = await exportConfiguration(this.deps.store.db, this.deps.dataDir, password !== undefined);
      await ctx.log(`Configuration read: ${archive.length} bytes${password ? ', keys included (encrypted)' : '; keys left out (encryption is off)'}`, 'Succeeded');
      const ref = { backupId: CONFIG_BACKUP_ID, objectId: CONFIG_OBJECT_ID, restorePointId: randomUUID() };
      const writer = await beginRestorePoint(store, {
        ...ref,
        password,
        compressionLevel: 3,
        object: { objectId: CONFIG_OBJECT_ID, name: 'Rampart configuration' },
        signal: ctx.signal,
      });
      try {
        await writer.writeDisk(
          { key: CONFIG_DISK_KEY, name: 'configuration.json', chunkSize: CHUNK_SIZE },
          { size: archive.length, read: async (offset, length) => archive.subarray(offset, offset + length) },
        );
        await writer.commit();
      } catch (err) {
        await writer.abort();
        throw err;
      }
      await ctx.log(`Restore point ${ref.restorePointId} written to repository "${name}"${password ? ' (encrypted)' : ''}`, 'Succeeded');
      const { deleted } = await applyRetention(store, { backupId: CONFIG_BACKUP_ID, objectId: CONFIG_OBJECT_ID }, { keepRestorePoints: settings.restorePointsToKeep });
      let failure: string | undefined;
      if (deleted.length > 0) {
        await ctx.log(`Retention: ${deleted.length} older restore point(s) removed (keeping ${settings.restorePointsToKeep})`, 'Succeeded');
        failure = await removeUnreferencedData(ctx, store, { graceMs: this.deps.gcGraceMs, signal: ctx.signal });
      }
      const latest = await this.get();
      await this.save({ ...latest, lastSuccessfulBackup: { lastSuccessfulTime: new Date().toISOString(), sessionId: ctx.sessionId } });
      if (failure) return { result: 'Warning', message: `Configuration backed up to "${name}"; ${failure}` };
      return { result: 'Success', message: `Configuration backed up to "${name}".` };
    });
    return session;
  }
}
