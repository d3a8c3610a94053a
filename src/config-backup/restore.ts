import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listRestorePoints, localFolderBackend, openChunkStore, openDisk, readRestorePoint } from '../chunkstore/index.js';
import type { Store } from '../store/database.js';
import { CONFIG_TABLES, parseConfigArchive } from './archive.js';

/** Where configuration restore points live in a repository (the config-backup section writes them). */
export const CONFIG_BACKUP_ID = 'rampart-configuration';
export const CONFIG_OBJECT_ID = 'configuration';
export const CONFIG_DISK_KEY = 'configuration';

export interface ConfigRestoreOptions {
  /** The repository folder the configuration backup wrote into. */
  repositoryFolder: string;
  /** A restore point id; absent = the newest. */
  pointId?: string | undefined;
  password?: string | undefined;
  dataDir: string;
}

/** Rows are inserted this many at a time (SQLite's bound-parameter limit stays far away). */
const BATCH = 50;

/**
 * Brings an empty data folder (and its database: SQLite in the folder or the configured
 * PostgreSQL) back to the configuration of a restore point. Refuses a database that already
 * has users: a restore never merges into, or overwrites, a server in use.
 */
export async function restoreConfiguration(store: Store, options: ConfigRestoreOptions): Promise<{ restorePointId: string; createdAt: string; rows: number; files: string[] }> {
  const users = await store.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(users.n) > 0) throw new Error('the database already holds a configuration (it has users); restore into an empty data folder and database');
  const chunkStore = await openChunkStore(localFolderBackend(options.repositoryFolder));
  const points = (
    await listRestorePoints(chunkStore, { passwords: options.password ? [options.password] : [], within: { backupId: CONFIG_BACKUP_ID, objectId: CONFIG_OBJECT_ID } })
  ).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const point = options.pointId ? points.find((p) => p.restorePointId === options.pointId) : points[0];
  if (!point)
    throw new Error(
      options.pointId ? `no configuration restore point ${options.pointId} in ${options.repositoryFolder}` : `no configuration restore point in ${options.repositoryFolder}`,
    );
  if (point.keyFingerprint && !options.password) throw new Error(`restore point ${point.restorePointId} is encrypted: give its password with --password-stdin`);
  const opened = await readRestorePoint(chunkStore, point, { password: options.password });
  const disk = await openDisk(chunkStore, opened, CONFIG_DISK_KEY);
  const archive = parseConfigArchive(await disk.read(0, disk.size));

  let rows = 0;
  await store.db.transaction().execute(async (trx) => {
    // Reverse order for the deletes (rows a first start may have made), forward for the inserts.
    for (const table of [...CONFIG_TABLES].reverse()) await trx.deleteFrom(table).execute();
    for (const table of CONFIG_TABLES) {
      const all = archive.tables[table] ?? [];
      for (let i = 0; i < all.length; i += BATCH) {
        // The archive holds what this schema's own select returned: the same columns.
        await trx
          .insertInto(table)
          .values(all.slice(i, i + BATCH) as never)
          .execute();
      }
      rows += all.length;
    }
  });
  const files: string[] = [];
  for (const [name, content] of Object.entries(archive.files)) {
    // Names come from our own archive, but a file name is never allowed to leave the folder.
    if (path.basename(name) !== name) continue;
    const target = path.join(options.dataDir, name);
    await writeFile(target, Buffer.from(content, 'base64'), { mode: 0o600 });
    await chmod(target, 0o600);
    files.push(name);
  }
  return { restorePointId: point.restorePointId, createdAt: point.createdAt, rows, files };
}
