import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import { inTransaction } from '../../store/transaction.js';
import { notFound } from '../../http/errors.js';
import type { BackupObjectRow, BackupRow, RestorePointDiskRow, RestorePointRow } from './model.js';
import { VMWARE_PLATFORM_ID } from './model.js';

export interface BackupFilters {
  createdAfter?: string;
  createdBefore?: string;
  platformId?: string;
  jobId?: string;
  policyTag?: string;
}

export interface BackupObjectFilters {
  platformNames?: string[];
  platformId?: string;
  type?: string;
  viType?: string;
}

export interface RestorePointFilters {
  createdAfter?: string;
  createdBefore?: string;
  platformNames?: string[];
  platformId?: string;
  backupId?: string;
  /** Any of these backups (a recovery token's). */
  backupIds?: string[];
  backupObjectId?: string;
  malwareStatuses?: string[];
}

/** A restore point the data mover has written (manifest last) and now records in the catalogue. */
export interface NewRestorePoint {
  backup: { id: string; jobId: string | null; name: string; repositoryId: string };
  object: { objectId: string; name: string; path: string };
  restorePoint: { id?: string; creationTime: string; type: 'Full' | 'Increment'; sessionId: string | null; location: string };
  disks: { uid: string; name: string; capacity: number; stats: Record<string, unknown> }[];
}

const restorePointsCount = sql<number>`(select count(*) from restore_points rp where rp.backup_object_id = backup_objects.id)`;

/**
 * The catalogue of backups, backup objects, restore points and their disks.
 * The repository is the truth (its manifests); these rows index it, written
 * only after a restore point's manifest is in place, so nothing half-written
 * is ever listed.
 */
export class BackupsService {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  async listBackups(page: PageRequest, f: BackupFilters) {
    let q = this.db.selectFrom('backups');
    if (f.createdAfter) q = q.where('creation_time', '>=', f.createdAfter);
    if (f.createdBefore) q = q.where('creation_time', '<=', f.createdBefore);
    if (f.platformId) q = q.where('platform_id', '=', f.platformId.toLowerCase());
    if (f.jobId) q = q.where('job_id', '=', f.jobId.toLowerCase());
    if (f.policyTag !== undefined) q = q.where('policy_tag', '=', f.policyTag);
    if (page.nameFilter) q = q.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    return fetchPage<BackupRow>(q, { ...page, nameFilter: undefined });
  }

  async getBackup(id: string): Promise<BackupRow> {
    const row = await this.db.selectFrom('backups').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Backup ${id} was not found.`, id);
    return row;
  }

  async objectsOfBackup(backupId: string) {
    const backup = await this.getBackup(backupId);
    const rows = await this.db
      .selectFrom('backup_objects')
      .selectAll()
      .select(restorePointsCount.as('restore_points_count'))
      .where('backup_id', '=', backup.id)
      .orderBy('name_key')
      .orderBy('id')
      .execute();
    return rows;
  }

  async listObjects(page: PageRequest, f: BackupObjectFilters) {
    let q = this.db.selectFrom('backup_objects');
    if (f.platformNames) q = q.where('platform_name', 'in', f.platformNames);
    if (f.platformId) q = q.where('platform_id', '=', f.platformId.toLowerCase());
    if (f.type) q = q.where(sql<boolean>`lower(type) = ${f.type.toLowerCase()}`);
    if (f.viType) q = q.where(sql<boolean>`lower(vi_type) = ${f.viType.toLowerCase()}`);
    if (page.nameFilter) q = q.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    const { rows, total } = await fetchPage<BackupObjectRow>(q, { ...page, nameFilter: undefined });
    return { rows: await this.withCounts(rows), total };
  }

  private async withCounts(rows: BackupObjectRow[]) {
    if (rows.length === 0) return [];
    const counts = await this.db
      .selectFrom('restore_points')
      .select(['backup_object_id', (eb) => eb.fn.countAll().as('n')])
      .where(
        'backup_object_id',
        'in',
        rows.map((r) => r.id),
      )
      .groupBy('backup_object_id')
      .execute();
    const byId = new Map(counts.map((c) => [c.backup_object_id, Number(c.n)]));
    return rows.map((r) => ({ ...r, restore_points_count: byId.get(r.id) ?? 0 }));
  }

  async getObject(id: string) {
    const row = await this.db.selectFrom('backup_objects').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Backup object ${id} was not found.`, id);
    return (await this.withCounts([row]))[0]!;
  }

  /** An object of this backup (404 when the backup has no such object). */
  async objectOfBackup(backupId: string, objectId: string): Promise<BackupObjectRow> {
    const row = await this.db.selectFrom('backup_objects').selectAll().where('id', '=', objectId.toLowerCase()).where('backup_id', '=', backupId).executeTakeFirst();
    if (!row) throw notFound(`Backup ${backupId} has no object ${objectId}.`, objectId);
    return row;
  }

  /** After an object's points were deleted: the object goes when none is left, and the backup when it has no object left. */
  async forgetObjectIfEmpty(backupId: string, objectId: string): Promise<{ object: boolean; backup: boolean }> {
    return inTransaction(this.db, async (trx) => {
      const left = await trx.selectFrom('restore_points').select('id').where('backup_object_id', '=', objectId).executeTakeFirst();
      if (left) return { object: false, backup: false };
      await trx.deleteFrom('backup_objects').where('id', '=', objectId).execute();
      const others = await trx.selectFrom('backup_objects').select('id').where('backup_id', '=', backupId).executeTakeFirst();
      if (others) return { object: true, backup: false };
      await trx.deleteFrom('backups').where('id', '=', backupId).execute();
      return { object: true, backup: true };
    });
  }

  async restorePointsOfObject(objectId: string): Promise<RestorePointRow[]> {
    const object = await this.getObject(objectId);
    return this.db.selectFrom('restore_points').selectAll().where('backup_object_id', '=', object.id).orderBy('creation_time', 'desc').orderBy('id').execute();
  }

  async listRestorePoints(page: PageRequest, f: RestorePointFilters) {
    let q = this.db.selectFrom('restore_points');
    if (f.createdAfter) q = q.where('creation_time', '>=', f.createdAfter);
    if (f.createdBefore) q = q.where('creation_time', '<=', f.createdBefore);
    if (f.platformNames) q = q.where('platform_name', 'in', f.platformNames);
    if (f.platformId) q = q.where('platform_id', '=', f.platformId.toLowerCase());
    if (f.backupId) q = q.where('backup_id', '=', f.backupId.toLowerCase());
    if (f.backupIds) q = f.backupIds.length ? q.where('backup_id', 'in', f.backupIds) : q.where(sql<boolean>`1 = 0`);
    if (f.backupObjectId) q = q.where('backup_object_id', '=', f.backupObjectId.toLowerCase());
    // Rampart does not scan for malware: no point carries a malware status, so a status filter matches none.
    if (f.malwareStatuses) q = q.where(sql<boolean>`1 = 0`);
    if (page.nameFilter) q = q.where(sql<boolean>`name_key like ${likePattern(page.nameFilter)} escape '\\'`);
    return fetchPage<RestorePointRow>(q, { ...page, nameFilter: undefined });
  }

  async getRestorePoint(id: string): Promise<RestorePointRow> {
    const row = await this.db.selectFrom('restore_points').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound(`Restore point ${id} was not found.`, id);
    return row;
  }

  async disksOf(restorePointId: string): Promise<RestorePointDiskRow[]> {
    const point = await this.getRestorePoint(restorePointId);
    return this.db.selectFrom('restore_point_disks').selectAll().where('restore_point_id', '=', point.id).orderBy('position').execute();
  }

  /** The object's newest restore point in a backup (the base of an incremental run). */
  async latestRestorePoint(backupId: string, objectId: string): Promise<RestorePointRow | undefined> {
    return this.db
      .selectFrom('restore_points')
      .innerJoin('backup_objects', 'backup_objects.id', 'restore_points.backup_object_id')
      .selectAll('restore_points')
      .where('restore_points.backup_id', '=', backupId)
      .where('backup_objects.object_id', '=', objectId)
      .orderBy('restore_points.creation_time', 'desc')
      .executeTakeFirst();
  }

  /** Every backup a job wrote (one per repository it used). */
  async backupsOfJob(jobId: string): Promise<BackupRow[]> {
    return this.db.selectFrom('backups').selectAll().where('job_id', '=', jobId.toLowerCase()).orderBy('creation_time').execute();
  }

  /** The backup a job writes to in a repository, if it has one yet. */
  async backupOf(jobId: string, repositoryId: string): Promise<BackupRow | undefined> {
    return this.db.selectFrom('backups').selectAll().where('job_id', '=', jobId).where('repository_id', '=', repositoryId).executeTakeFirst();
  }

  /** Records a written restore point: backup and object rows appear with their first point, all in one transaction. */
  async recordRestorePoint(p: NewRestorePoint): Promise<string> {
    const id = p.restorePoint.id ?? randomUUID();
    await inTransaction(this.db, async (trx) => {
      const backup = await trx.selectFrom('backups').select('id').where('id', '=', p.backup.id).executeTakeFirst();
      if (!backup) {
        await trx
          .insertInto('backups')
          .values({
            id: p.backup.id,
            job_id: p.backup.jobId,
            name: p.backup.name,
            name_key: p.backup.name.toLowerCase(),
            platform_name: 'VMware',
            platform_id: VMWARE_PLATFORM_ID,
            policy_tag: '',
            repository_id: p.backup.repositoryId,
            creation_time: p.restorePoint.creationTime,
          })
          .execute();
      }
      let object = await trx.selectFrom('backup_objects').select('id').where('backup_id', '=', p.backup.id).where('object_id', '=', p.object.objectId).executeTakeFirst();
      if (!object) {
        object = { id: randomUUID() };
        await trx
          .insertInto('backup_objects')
          .values({
            id: object.id,
            backup_id: p.backup.id,
            name: p.object.name,
            name_key: p.object.name.toLowerCase(),
            type: 'VM',
            platform_name: 'VMware',
            platform_id: VMWARE_PLATFORM_ID,
            object_id: p.object.objectId,
            vi_type: 'VirtualMachine',
            path: p.object.path,
          })
          .execute();
      }
      await trx
        .insertInto('restore_points')
        .values({
          id,
          backup_id: p.backup.id,
          backup_object_id: object.id,
          name: p.object.name,
          name_key: p.object.name.toLowerCase(),
          platform_name: 'VMware',
          platform_id: VMWARE_PLATFORM_ID,
          creation_time: p.restorePoint.creationTime,
          type: p.restorePoint.type,
          session_id: p.restorePoint.sessionId,
          location: p.restorePoint.location,
        })
        .execute();
      if (p.disks.length > 0) {
        await trx
          .insertInto('restore_point_disks')
          .values(
            p.disks.map((d, i) => ({
              restore_point_id: id,
              uid: d.uid,
              position: i,
              name: d.name,
              type: 'Vi',
              capacity: d.capacity,
              state: 'Processed',
              stats: JSON.stringify(d.stats),
            })),
          )
          .execute();
      }
    });
    return id;
  }

  /** Retention: the catalogue forgets a point whose manifest was deleted. */
  async forgetRestorePoint(id: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.deleteFrom('restore_point_disks').where('restore_point_id', '=', id).execute();
      await trx.deleteFrom('restore_points').where('id', '=', id).execute();
    });
  }

  /** Every restore point of a backup, oldest first (a deletion goes through them). */
  async restorePointsOfBackup(backupId: string): Promise<RestorePointRow[]> {
    return this.db.selectFrom('restore_points').selectAll().where('backup_id', '=', backupId).orderBy('creation_time').execute();
  }

  /** The catalogue forgets a backup whose restore points are all gone (or that is removed from the configuration only). */
  async forgetBackup(backupId: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const points = trx.selectFrom('restore_points').select('id').where('backup_id', '=', backupId);
      await trx.deleteFrom('restore_point_disks').where('restore_point_id', 'in', points).execute();
      await trx.deleteFrom('restore_points').where('backup_id', '=', backupId).execute();
      await trx.deleteFrom('backup_objects').where('backup_id', '=', backupId).execute();
      await trx.deleteFrom('backups').where('id', '=', backupId).execute();
    });
  }

  /** The disks of every restore point of a backup (the backup files are built from them). */
  async disksOfBackup(backupId: string): Promise<RestorePointDiskRow[]> {
    return this.db
      .selectFrom('restore_point_disks')
      .innerJoin('restore_points', 'restore_points.id', 'restore_point_disks.restore_point_id')
      .selectAll('restore_point_disks')
      .where('restore_points.backup_id', '=', backupId)
      .orderBy('restore_point_disks.position')
      .execute();
  }

  async restorePointByLocation(location: string): Promise<RestorePointRow | undefined> {
    return this.db.selectFrom('restore_points').selectAll().where('location', '=', location).executeTakeFirst();
  }
}
