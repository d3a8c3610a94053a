import { existsSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { INSTALL_ROOT } from '../../src/api/repositories/hardened.js';

/**
 * Removes what hardened repository installs left on this machine: their transport services
 * outlive Rampart by design, so each supervising loop's process group is stopped and its
 * install folder removed; the install root goes too when nothing else is in it.
 */
export async function removeHardenedInstalls(repositoryIds: string[]): Promise<void> {
  for (const id of repositoryIds) {
    const pidFile = path.join(INSTALL_ROOT, id, 'supervisor.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(-Number((await readFile(pidFile, 'utf8')).trim()), 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await rm(path.join(INSTALL_ROOT, id), { recursive: true, force: true });
  }
  // The install made it; removed only when empty (another install may be using it).
  await rmdir(INSTALL_ROOT).catch(() => undefined);
}
