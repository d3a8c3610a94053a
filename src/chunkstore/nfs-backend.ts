/**
 * A repository folder on an NFS export, through Rampart's own NFSv3 client
 * (src/storage/nfs; this kernel has no NFS client to mount with). Writes are
 * a temp file + RENAME, which NFSv3 makes atomic and replacing; create-only
 * writes (chunks, keys, config) LINK the finished temp file to its name,
 * which fails with EXIST when the name is taken, so a half-written file never
 * appears under a real name (docs/repository-format.md §1 "Writes").
 */
import { randomBytes } from 'node:crypto';
import { NfsExport, type NfsExportOptions } from '../storage/nfs/export.js';
import { isNfsStatus, NFS3ERR } from '../storage/nfs/errors.js';
import { FILE_TYPE } from '../storage/nfs/nfs3.js';
import { BlobNotFoundError, checkKey, TEMP_MARKER, type BlobBackend, type BlobInfo } from './backend.js';
import { ChunkStoreError } from './errors.js';

const split = (key: string) => {
  const cut = key.lastIndexOf('/');
  return { dir: cut < 0 ? '' : key.slice(0, cut), name: key.slice(cut + 1) };
};

/** NOSPC and DQUOT are the store's "NoSpace": a full repository fails the run with "no space", the store stays consistent. */
function translate(err: unknown, where: string, key: string): unknown {
  if (isNfsStatus(err, NFS3ERR.NOSPC) || isNfsStatus(err, NFS3ERR.DQUOT))
    return new ChunkStoreError('NoSpace', `No space left in the ${where} (writing ${key}): ${(err as Error).message}.`);
  return err;
}

export function nfsBackend(share: NfsExport): BlobBackend {
  const where = `NFS export folder ${share.sharePath}`;
  const missing = (err: unknown) => isNfsStatus(err, NFS3ERR.NOENT);

  /** Runs `work`; a STALE handle (folder removed and re-made, export re-shared) forgets cached folders and tries once more. */
  async function fresh<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isNfsStatus(err, NFS3ERR.STALE)) throw err;
      share.forget();
      return work();
    }
  }

  async function writeTemp(key: string, data: Uint8Array, signal?: AbortSignal) {
    const { dir, name } = split(checkKey(key));
    const folder = await share.folder(dir, true, signal);
    const temp = `${name}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    try {
      // GUARDED: the random temp name is ours alone; if it ever existed, something is wrong.
      const fh = await share.client.create(folder, temp, true, share.sharePath + '/' + key, signal);
      await share.writeFile(fh, data, key, signal);
      return { folder, temp, fh, name };
    } catch (err) {
      await share.client.remove(folder, temp, key).catch(() => undefined);
      throw translate(err, where, key);
    }
  }

  async function lookUp(key: string) {
    const { dir, name } = split(checkKey(key));
    const folder = await share.folder(dir, false);
    const found = await share.client.lookup(folder, name, `${share.sharePath}/${key}`);
    const attributes = found.attributes ?? (await share.client.getattr(found.handle, key));
    return { folder, name, handle: found.handle, attributes };
  }

  async function head(key: string): Promise<BlobInfo | undefined> {
    try {
      const { attributes } = await fresh(() => lookUp(key));
      return attributes.type === FILE_TYPE.REGULAR ? { key, size: attributes.size, modifiedMs: attributes.mtimeMs } : undefined;
    } catch (err) {
      if (missing(err) || isNfsStatus(err, NFS3ERR.NOTDIR)) return undefined;
      throw err;
    }
  }

  async function* walk(rel: string, prefix: string): AsyncGenerator<BlobInfo> {
    let folder: Buffer;
    try {
      folder = await share.folder(rel, false);
    } catch (err) {
      if (missing(err) || isNfsStatus(err, NFS3ERR.NOTDIR)) return;
      throw err;
    }
    const subfolders: string[] = [];
    try {
      for await (const entry of share.client.readdir(folder, `${share.sharePath}/${rel}`)) {
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
        // READDIRPLUS may leave attributes out (the server's choice): ask for them then.
        const attributes = entry.attributes ?? (entry.handle ? await share.client.getattr(entry.handle, key).catch(() => undefined) : undefined);
        if (attributes?.type === FILE_TYPE.DIRECTORY) subfolders.push(key);
        else if (attributes?.type === FILE_TYPE.REGULAR) yield { key, size: attributes.size, modifiedMs: attributes.mtimeMs };
      }
    } catch (err) {
      if (missing(err)) return; // removed while listed
      throw err;
    }
    for (const sub of subfolders) yield* walk(sub, prefix);
  }

  return {
    description: where,
    async put(key, data, signal) {
      const { folder, temp, name } = await fresh(() => writeTemp(key, data, signal));
      try {
        await share.client.rename(folder, temp, folder, name, `${share.sharePath}/${key}`);
      } catch (err) {
        await share.client.remove(folder, temp, key).catch(() => undefined);
        throw translate(err, where, key);
      }
    },
    async putIfAbsent(key, data, signal) {
      const { folder, temp, fh, name } = await fresh(() => writeTemp(key, data, signal));
      try {
        await share.client.link(fh, folder, name, `${share.sharePath}/${key}`);
        return true;
      } catch (err) {
        if (isNfsStatus(err, NFS3ERR.EXIST)) return false;
        if (!isNfsStatus(err, NFS3ERR.NOTSUPP)) throw translate(err, where, key);
        // No hard links on this export (some FAT/object-backed exports): fall back to
        // look-then-rename. Racy only against a parallel writer of the same key, and
        // create-only keys are content-named chunks or written once by one session.
        if (await head(key)) return false;
        await share.client.rename(folder, temp, folder, name, `${share.sharePath}/${key}`);
        return true;
      } finally {
        await share.client.remove(folder, temp, key).catch(() => undefined);
      }
    },
    async get(key, range, signal) {
      try {
        return await fresh(async () => {
          const { handle, attributes } = await lookUp(key);
          const offset = range?.offset ?? 0;
          const length = range ? range.length : attributes.size;
          return share.readFile(handle, offset, Math.max(0, Math.min(length, attributes.size - offset)), key, signal);
        });
      } catch (err) {
        if (missing(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    head,
    list(prefix) {
      return walk('', prefix);
    },
    async delete(key) {
      const { dir, name } = split(checkKey(key));
      try {
        await fresh(async () => share.client.remove(await share.folder(dir, false), name, `${share.sharePath}/${key}`));
      } catch (err) {
        if (!missing(err)) throw err;
      }
    },
    async rename(from, to) {
      const a = split(checkKey(from));
      const b = split(checkKey(to));
      try {
        await fresh(async () => {
          const source = await share.folder(a.dir, false);
          const target = await share.folder(b.dir, true);
          await share.client.rename(source, a.name, target, b.name, `${share.sharePath}/${from}`);
        });
      } catch (err) {
        if (missing(err)) throw new BlobNotFoundError(from, where);
        throw translate(err, where, to);
      }
    },
    async touch(key) {
      try {
        await fresh(async () => {
          const { handle } = await lookUp(key);
          await share.client.setMtime(handle, Date.now(), `${share.sharePath}/${key}`);
        });
      } catch (err) {
        if (missing(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    close: () => share.close(),
  };
}

/** Mounts `server:/export/folder` (creating the folder when missing) and opens the store's backend on it; close() unmounts. */
export async function openNfsBackend(sharePath: string, options: NfsExportOptions): Promise<BlobBackend> {
  try {
    return nfsBackend(await NfsExport.open(sharePath, { createFolder: true, ...options }));
  } catch (err) {
    options.signal?.throwIfAborted();
    throw new Error(`Cannot mount the NFS export ${sharePath}: ${(err as Error).message}`, { cause: err });
  }
}
