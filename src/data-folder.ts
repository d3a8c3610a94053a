import { chmod, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * The data folder holds user password hashes, refresh-token digests, the master key
 * and the serving key: only the server's own user may read it. Every folder in it
 * becomes 0700 and every file 0600, also ones a previous version or an operator
 * left looser; each loosened path is named in one warning. Symbolic links are left
 * alone (their target may be shared on purpose), and so are other file systems mounted
 * inside (an instant recovery's FUSE disk, brought back at start, is a mount point under
 * `ir/`: its modes are nbdfuse's to set, and chmod there fails).
 */
export async function tightenDataFolder(dataDir: string, logger: Logger): Promise<void> {
  const loosened: string[] = [];
  const visit = async (target: string, device?: number): Promise<void> => {
    const stat = await lstat(target).catch(() => undefined);
    if (!stat || stat.isSymbolicLink()) return;
    if (device !== undefined && stat.dev !== device) return;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o777) !== FOLDER_MODE) {
        loosened.push(`${path.relative(dataDir, target) || '.'} (${(stat.mode & 0o777).toString(8)})`);
        await chmod(target, FOLDER_MODE);
      }
      for (const name of await readdir(target)) await visit(path.join(target, name), stat.dev);
    } else if (stat.isFile() && (stat.mode & 0o077) !== 0) {
      loosened.push(`${path.relative(dataDir, target)} (${(stat.mode & 0o777).toString(8)})`);
      await chmod(target, FILE_MODE);
    }
  };
  await visit(dataDir);
  if (loosened.length > 0) {
    logger.warn({ dataDir, paths: loosened.slice(0, 50), count: loosened.length }, 'data folder was readable by others: tightened folders to 0700 and files to 0600');
  }
}
