import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Moves the backup files of a local extent folder into another extent's folder
 * on the backup server: copy first, then delete, so a failure part-way leaves
 * every file in at least one place. Rampart's probe files are not backups.
 */
export async function moveFolderContents(from: string, to: string): Promise<number> {
  const entries = (await readdir(from)).filter((n) => !n.startsWith('.rampart-probe-'));
  for (const name of entries) {
    await cp(path.join(from, name), path.join(to, name), { recursive: true, errorOnExist: true, force: false });
    await rm(path.join(from, name), { recursive: true, force: true });
  }
  return entries.length;
}
