/**
 * A repository folder on an SMB share, through Rampart's user-space SMB client
 * (src/storage/smb-client.ts; this kernel cannot mount CIFS). Writes follow
 * docs/repository-format.md §1 "Writes": a temp file created exclusively, then
 * a rename that replaces (put) or refuses to replace (putIfAbsent: the
 * server's create-only rename answers "name collision" when the blob exists).
 */
import { randomBytes } from 'node:crypto';
import { connectSmbShare, isNotFound, NtStatus, parseSharePath, SmbError, type SmbEntry, type SmbLogin, type SmbShareSession } from '../storage/smb-client.js';
import { BlobNotFoundError, checkKey, TEMP_MARKER, type BlobBackend, type BlobInfo } from './backend.js';

/** Folders listed ahead of the walk (each listing is four round trips). */
const LIST_AHEAD = 8;

/** The store over a logged-in share; `folder` is the repository folder inside it (`a\b`, or '' for the share root). */
export function smbBackend(share: SmbShareSession, folder: string): BlobBackend {
  const base = folder.replace(/[\\/]+/g, '\\').replace(/^\\|\\$/g, '');
  const where = `folder ${share.where}${base ? `\\${base}` : ''}`;
  const full = (key: string) => (base ? `${base}\\` : '') + checkKey(key).replace(/\//g, '\\');
  const parentOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('\\')));
  const madeFolders = new Set<string>();

  async function ensureFolder(dir: string): Promise<void> {
    if (!dir || madeFolders.has(dir)) return;
    await share.makeFolder(dir);
    madeFolders.add(dir);
  }

  async function writeTemp(key: string, data: Uint8Array): Promise<{ temp: string; target: string }> {
    const target = full(key);
    await ensureFolder(parentOf(target));
    const temp = `${target}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
    try {
      await share.writeNew(temp, data);
    } catch (err) {
      await share.remove(temp).catch(() => undefined);
      throw err;
    }
    return { temp, target };
  }

  /**
   * Depth first, in listing order; while one subfolder is walked the next LIST_AHEAD
   * are already being listed (chunks/ has up to 65 536 small folders: one round trip
   * after another would take minutes on a LAN).
   */
  async function* walk(dir: string, rel: string, prefix: string, listed?: Promise<SmbEntry[]>): AsyncGenerator<BlobInfo> {
    let entries: SmbEntry[];
    try {
      entries = await (listed ?? share.list(dir));
    } catch (err) {
      if (isNotFound(err) || (err instanceof SmbError && err.status === NtStatus.NotADirectory)) return;
      throw err;
    }
    const folders: { path: string; key: string }[] = [];
    for (const entry of entries) {
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (!(key.startsWith(prefix) || prefix.startsWith(`${key}/`))) continue;
      if (entry.isDirectory) folders.push({ path: dir ? `${dir}\\${entry.name}` : entry.name, key });
      else yield { key, size: entry.size, modifiedMs: entry.modifiedMs };
    }
    const ahead: (Promise<SmbEntry[]> | undefined)[] = [];
    const start = (i: number) => {
      if (i >= folders.length || ahead[i]) return;
      ahead[i] = share.list(folders[i]!.path);
      // Awaited (and its error handled) when the walk gets there; never an unhandled rejection before.
      ahead[i]!.catch(() => undefined);
    };
    for (let i = 0; i < folders.length; i++) {
      for (let j = i; j <= i + LIST_AHEAD; j++) start(j);
      const listing = ahead[i];
      ahead[i] = undefined;
      yield* walk(folders[i]!.path, folders[i]!.key, prefix, listing);
    }
  }

  return {
    description: where,
    async put(key, data) {
      const { temp, target } = await writeTemp(key, data);
      try {
        await share.rename(temp, target, true);
      } catch (err) {
        await share.remove(temp).catch(() => undefined);
        throw err;
      }
    },
    async putIfAbsent(key, data) {
      const { temp, target } = await writeTemp(key, data);
      try {
        await share.rename(temp, target, false);
        return true;
      } catch (err) {
        if (err instanceof SmbError && err.status === NtStatus.ObjectNameCollision) return false;
        throw err;
      } finally {
        await share.remove(temp).catch(() => undefined);
      }
    },
    async get(key, range) {
      try {
        return await share.read(full(key), range);
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    async head(key) {
      const s = await share.stat(full(key));
      return s && !s.isDirectory ? { key, size: s.size, modifiedMs: s.modifiedMs } : undefined;
    },
    list(prefix) {
      return walk(base, '', prefix);
    },
    delete: (key) => share.remove(full(key)),
    async rename(from, to) {
      await ensureFolder(parentOf(full(to)));
      try {
        await share.rename(full(from), full(to), true);
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError(from, where);
        throw err;
      }
    },
    async touch(key) {
      try {
        await share.setModified(full(key), Date.now());
      } catch (err) {
        if (isNotFound(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    close: () => share.close(),
  };
}

export interface SmbTarget {
  /** Veeam's `share.sharePath`: `\\server\share\folder`. */
  sharePath: string;
  login: SmbLogin;
  /** Tests only: smbd on another port. */
  port?: number;
}

/** Logs in to the share and opens the store's backend on the share path's folder; close() logs off. */
export async function openSmbBackend(target: SmbTarget, options: { timeoutMs?: number } = {}): Promise<BlobBackend> {
  const location = parseSharePath(target.sharePath);
  if (!location) throw new Error(`The share path "${target.sharePath}" is not a UNC path such as \\\\server\\share\\folder.`);
  const share = await connectSmbShare(location, target.login, { timeoutMs: options.timeoutMs ?? 30_000, ...(target.port ? { port: target.port } : {}) });
  return smbBackend(share, location.folder);
}
