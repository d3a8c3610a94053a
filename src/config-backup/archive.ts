import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** Format of the configuration archive (the one "disk" of a configuration restore point). */
export const CONFIG_ARCHIVE_FORMAT = 'rampart-configuration';
export const CONFIG_ARCHIVE_VERSION = 1;

/** Every table of the schema, in an order a restore can insert them in (no foreign keys cross it backwards). */
export const CONFIG_TABLES = [
  'settings',
  'users',
  'vault_secrets',
  'credentials',
  'cloud_credentials',
  'encryption_passwords',
  'managed_servers',
  'repositories',
  'scale_out_repositories',
  'scale_out_extents',
  'repository_usage',
  'proxies',
  'jobs',
  'job_runs',
  'backups',
  'backup_objects',
  'restore_points',
  'restore_point_disks',
  'sessions',
  'session_logs',
  // Recovery tokens (digests only) are kept: an agent's token must still work on a server rebuilt after a disaster.
  'recovery_tokens',
  'helper_appliances',
] as const satisfies readonly (keyof Database)[];

/** Tokens, sign-in codes and lockouts are not configuration: a restored server starts without them. */

/** Data-folder files that hold keys (the master key, the serving certificate's key): only in an encrypted backup. */
const SECRET_FILES = /^(master\.key|server-certificate.*)$/;

export interface ConfigArchive {
  format: typeof CONFIG_ARCHIVE_FORMAT;
  version: number;
  createdAt: string;
  tables: Record<string, Record<string, unknown>[]>;
  /** Data-folder files by name, base64; empty unless the backup is encrypted. */
  files: Record<string, string>;
}

/**
 * The whole configuration as one JSON document: every table (vault records stay sealed),
 * and, when `withKeys` (the restore point is encrypted), the master key file and the
 * serving certificate files, so the sealed records can be opened after a restore.
 */
export async function exportConfiguration(db: Kysely<Database>, dataDir: string, withKeys: boolean): Promise<Buffer> {
  const tables: ConfigArchive['tables'] = {};
  for (const table of CONFIG_TABLES) tables[table] = (await db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
  const files: ConfigArchive['files'] = {};
  if (withKeys) {
    for (const name of await readdir(dataDir)) {
      if (!SECRET_FILES.test(name) || name.endsWith('.lock')) continue;
      const file = path.join(dataDir, name);
      if ((await stat(file)).isFile()) files[name] = (await readFile(file)).toString('base64');
    }
  }
  const archive: ConfigArchive = { format: CONFIG_ARCHIVE_FORMAT, version: CONFIG_ARCHIVE_VERSION, createdAt: new Date().toISOString(), tables, files };
  return Buffer.from(JSON.stringify(archive), 'utf8');
}

export function parseConfigArchive(bytes: Buffer): ConfigArchive {
  const archive = JSON.parse(bytes.toString('utf8')) as ConfigArchive;
  if (archive.format !== CONFIG_ARCHIVE_FORMAT || archive.version !== CONFIG_ARCHIVE_VERSION) throw new Error('not a Rampart configuration backup of a version this release reads');
  return archive;
}
