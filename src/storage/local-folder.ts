import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StorageCheckError, type StorageFigures } from './figures.js';
import type { StepRunner } from './steps.js';

/** The probe file's name starts with a dot so a listing of backups never shows it. */
const probeName = () => `.rampart-probe-${randomUUID()}`;

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (give the server account write access to the folder)';
    case 'ENOSPC':
      return 'no space left on the volume (free some space or pick another volume)';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'EROFS':
      return 'the volume is mounted read-only';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    default:
      return e?.message ?? String(err);
  }
}

/** Free, used and total bytes of the volume holding `folder`, as the server account may use it. */
export async function measureLocalFolder(folder: string): Promise<StorageFigures> {
  const fs = await statfs(folder);
  const capacity = fs.blocks * fs.bsize;
  // bavail, not bfree: blocks reserved for root are not space the server can write to.
  const free = fs.bavail * fs.bsize;
  const used = (fs.blocks - fs.bfree) * fs.bsize;
  return { capacityBytes: capacity, freeBytes: free, usedBytes: used, source: 'filesystem' };
}

/**
 * The add/edit checks for a repository folder on the backup server itself:
 * the path is absolute, the folder exists (created if missing), a probe file can
 * be written, read back byte for byte and deleted, and the volume is measured.
 * `write: false` (a sealed extent) skips the write probe.
 */
export async function checkLocalFolder(folder: string, steps: StepRunner, options: { write?: boolean } = {}): Promise<StorageFigures> {
  if (!path.isAbsolute(folder))
    throw new StorageCheckError(`The path "${folder}" is not absolute; give the full path of the folder on the backup server (e.g. /var/backups/veeam).`);
  await steps.step(
    `Creating folder ${folder} if missing`,
    async () => {
      try {
        const existing = await stat(folder).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
        if (existing && !existing.isDirectory()) throw new StorageCheckError(`The path ${folder} exists but is not a folder.`);
        if (!existing) await mkdir(folder, { recursive: true, mode: 0o750 });
        return existing ? 'exists' : 'created';
      } catch (err) {
        if (err instanceof StorageCheckError) throw err;
        throw new StorageCheckError(`Cannot create the folder ${folder}: ${reason(err)}.`);
      }
    },
    (what) => `Folder ${folder} ${what}`,
  );
  if (options.write !== false) {
    await steps.step(
      `Checking that ${folder} is writable`,
      async () => {
        const file = path.join(folder, probeName());
        const content = randomUUID();
        try {
          await writeFile(file, content, { flag: 'wx' });
          const back = await readFile(file, 'utf8');
          if (back !== content) throw new StorageCheckError(`The probe file written to ${folder} read back different content: the storage is not reliable.`);
        } catch (err) {
          if (err instanceof StorageCheckError) throw err;
          throw new StorageCheckError(`Cannot write to ${folder}: ${reason(err)}.`);
        } finally {
          await unlink(file).catch(() => undefined);
        }
      },
      () => `Wrote, read back and deleted a probe file in ${folder}`,
    );
  }
  return steps.step(
    `Measuring the volume of ${folder}`,
    () => measureLocalFolder(folder),
    (f) => `Capacity ${gb(f.capacityBytes)} GB, free ${gb(f.freeBytes)} GB`,
  );
}

const gb = (bytes: number | null) => (bytes === null ? '?' : (bytes / 1024 ** 3).toFixed(2));
