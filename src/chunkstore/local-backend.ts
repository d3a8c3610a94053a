import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ChunkStoreError } from './errors.js';
import { BlobNotFoundError, checkKey, TEMP_MARKER, type BlobBackend, type BlobInfo } from './backend.js';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

/** A repository in a folder of this machine (node:fs). */
export function localFolderBackend(root: string): BlobBackend {
  const base = path.resolve(root);
  const where = `local folder ${base}`;
  const full = (key: string) => path.join(base, checkKey(key));

  async function writeTemp(key: string, data: Uint8Array): Promise<string> {
    const target = full(key);
    const temp = `${target}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    await mkdir(path.dirname(target), { recursive: true });
    try {
      await writeFile(temp, data, { flag: constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY });
    } catch (err) {
      // A full volume (ENOSPC) must not keep the partial temp file: it holds the space a retry needs.
      await unlink(temp).catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new ChunkStoreError('NoSpace', `No space left in the ${where} (writing ${key}).`);
      throw err;
    }
    return temp;
  }

  async function* walk(dir: string, rel: string, prefix: string): AsyncGenerator<BlobInfo> {
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    for await (const entry of handle) {
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      // Only descend where the prefix can still match.
      if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
      if (entry.isDirectory()) yield* walk(path.join(dir, entry.name), key, prefix);
      else if (entry.isFile()) {
        const s = await stat(path.join(dir, entry.name)).catch(() => undefined);
        if (s) yield { key, size: s.size, modifiedMs: s.mtimeMs };
      }
    }
  }

  return {
    description: where,
    async put(key, data) {
      const temp = await writeTemp(key, data);
      try {
        await rename(temp, full(key));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async putIfAbsent(key, data) {
      const temp = await writeTemp(key, data);
      try {
        // link() fails with EEXIST instead of replacing: create-only, still atomic.
        await link(temp, full(key));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    },
    async get(key, range) {
      try {
        if (!range) return await readFile(full(key));
        const handle = await open(full(key), 'r');
        try {
          const buffer = Buffer.alloc(range.length);
          const { bytesRead } = await handle.read(buffer, 0, range.length, range.offset);
          return buffer.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      } catch (err) {
        if (isMissing(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    async head(key) {
      try {
        const s = await stat(full(key));
        return s.isFile() ? { key, size: s.size, modifiedMs: s.mtimeMs } : undefined;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    list(prefix) {
      return walk(base, '', prefix);
    },
    async delete(key) {
      await rm(full(key), { force: true });
    },
    async rename(from, to) {
      await mkdir(path.dirname(full(to)), { recursive: true });
      try {
        await rename(full(from), full(to));
      } catch (err) {
        if (isMissing(err)) throw new BlobNotFoundError(from, where);
        throw err;
      }
    },
    localPath: full,
    async touch(key) {
      const now = new Date();
      await utimes(full(key), now, now);
    },
    async close() {},
  };
}
