import type { RampartConfig } from '../config.js';
import { openStore } from '../store/database.js';
import { restoreConfiguration } from '../config-backup/restore.js';
import { option, readPasswordFromStdin, type CliOutput } from './io.js';

const USAGE = `usage:
  rampart config restore --repository FOLDER [--point RESTORE_POINT_ID] [--password-stdin]
      brings an empty data folder (RAMPART_DATA_DIR, and DATABASE_URL when set) back to a
      configuration backup written into the repository FOLDER; the newest point by default`;

/** `rampart config restore …`: run with the server stopped, on an empty data folder. */
export async function configCommand(args: string[], config: RampartConfig, out: CliOutput): Promise<number> {
  const [action, ...rest] = args;
  const repositoryFolder = option(rest, '--repository');
  if (action !== 'restore' || !repositoryFolder) {
    out.error(USAGE);
    return 2;
  }
  const password = rest.includes('--password-stdin') ? await readPasswordFromStdin() : undefined;
  const store = await openStore(config.databaseUrl);
  try {
    const done = await restoreConfiguration(store, { repositoryFolder, pointId: option(rest, '--point'), password, dataDir: config.dataDir });
    out.print(`restored configuration restore point ${done.restorePointId} (${done.createdAt}): ${done.rows} rows, files: ${done.files.join(', ') || 'none'}`);
    if (done.files.length === 0)
      out.print('the backup was not encrypted, so it holds no master key: secrets in it cannot be opened until the old master key is put back (RAMPART_MASTER_KEY or master.key)');
    return 0;
  } catch (err) {
    out.error(`restore failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}
