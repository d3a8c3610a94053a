/**
 * A mounted NFS export as Rampart uses it: `server:/export/folder` resolved to
 * a MOUNT of the export and a file handle for the folder inside it, with
 * whole-file reads and writes split at the server's rtmax/wtmax and several
 * pieces in flight (a 4 MiB chunk at a 1 MiB wtmax is 4 pipelined WRITEs and a
 * COMMIT, not 4 round trips in series, let alone 128 at 32 KiB).
 */
import { CONVENTIONAL_MOUNT_PORT, MountClient, MountError } from './mount.js';
import { lookUpPort } from './portmap.js';
import { FILE_TYPE, NFS_PROGRAM, Nfs3Client, STABLE, type Attributes, type FsInfo } from './nfs3.js';
import { isNfsStatus, NFS3ERR } from './errors.js';
import type { RpcCredentials } from './rpc.js';

export const STANDARD_NFS_PORT = 2049;
/** Pieces of one file in flight at once: enough to cover loopback and LAN latency, few enough not to flood the server. */
const IN_FLIGHT = 8;

export interface NfsExportOptions {
  timeoutMs: number;
  /** AUTH_SYS identity; uid/gid 0 by default (what a backup server runs as; the export must not squash it for writes to keep ownership). */
  credentials?: RpcCredentials;
  /** Create the folder (and its parents inside the export) when missing. */
  createFolder?: boolean;
  /** Ports when not asked of the portmapper (tests; servers on unusual ports). */
  mountPort?: number;
  nfsPort?: number;
  signal?: AbortSignal;
}

/** `server:/export/folder` (IPv6 in brackets) → host and absolute path; undefined when it is not that shape. */
export function parseNfsSharePath(sharePath: string): { host: string; path: string } | undefined {
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\/.*)$/.exec(sharePath.trim());
  if (!m) return undefined;
  const path = `/${m[2]!.split('/').filter(Boolean).join('/')}`;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), path };
}

async function pool(count: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
}

export class NfsExport {
  private dirs = new Map<string, Promise<Buffer>>();

  private constructor(
    readonly client: Nfs3Client,
    private readonly mounter: MountClient,
    readonly host: string,
    /** The path MOUNT was asked for. */
    readonly exportPath: string,
    /** The repository folder, `server:/export/folder` as given. */
    readonly sharePath: string,
    readonly root: Buffer,
    readonly info: FsInfo,
  ) {}

  static async open(sharePath: string, options: NfsExportOptions): Promise<NfsExport> {
    const parsed = parseNfsSharePath(sharePath);
    if (!parsed) throw new Error(`"${sharePath}" is not an NFS export such as server:/export/folder`);
    const { host, path } = parsed;
    const rpc = { timeoutMs: options.timeoutMs, credentials: options.credentials ?? { uid: 0, gid: 0 }, privilegedPort: true };
    const mounter = await MountClient.connect(host, { ...rpc, ...(options.mountPort ? { port: options.mountPort } : {}) }, options.signal);
    let client: Nfs3Client | undefined;
    try {
      const { exportPath, handle } = await mountLongest(mounter, path, options.signal);
      const port = options.nfsPort ?? (await lookUpPort(host, NFS_PROGRAM, 3, options.timeoutMs, options.signal)) ?? STANDARD_NFS_PORT;
      client = new Nfs3Client(host, port, rpc);
      const info = await client.fsinfo(handle, `${host}:${exportPath}`, options.signal);
      let folder = handle;
      let at = exportPath === '/' ? '' : exportPath;
      for (const name of path.slice(exportPath.length).split('/').filter(Boolean)) {
        at = `${at}/${name}`;
        folder = await lookUpOrMake(client, folder, name, `${host}:${at}`, options.createFolder === true, options.signal);
      }
      return new NfsExport(client, mounter, host, exportPath, `${host}:${path}`, folder, info);
    } catch (err) {
      client?.close();
      mounter.close();
      throw err;
    }
  }

  private where(rel: string) {
    return rel ? `${this.sharePath}/${rel}` : this.sharePath;
  }

  /** The handle of folder `rel` (slash-separated, relative to the repository folder); created with its parents when `create`. */
  async folder(rel: string, create: boolean, signal?: AbortSignal): Promise<Buffer> {
    if (!rel) return this.root;
    // The promise is cached, not only the handle: parallel chunk writes into one new
    // fan-out folder share one LOOKUP/MKDIR instead of racing each other.
    // A plain look-up (which may fail: absent) is never handed to a writer that would create it.
    const known = this.dirs.get(`make:${rel}`) ?? (create ? undefined : this.dirs.get(`find:${rel}`));
    if (known) return known;
    const key = `${create ? 'make' : 'find'}:${rel}`;
    const cut = rel.lastIndexOf('/');
    const pending = this.folder(cut < 0 ? '' : rel.slice(0, cut), create, signal).then((parent) =>
      lookUpOrMake(this.client, parent, rel.slice(cut + 1), this.where(rel), create, signal),
    );
    this.dirs.set(key, pending);
    pending.catch(() => this.dirs.delete(key));
    return pending;
  }

  /** Forgets cached folder handles (after a STALE answer, or when folders were removed). */
  forget() {
    this.dirs.clear();
  }

  /** Writes `data` into the open file from offset 0 and makes it stable (UNSTABLE pieces + COMMIT, FILE_SYNC again if the server restarted meanwhile). */
  async writeFile(fh: Buffer, data: Uint8Array, rel: string, signal?: AbortSignal): Promise<void> {
    const where = this.where(rel);
    const step = Math.max(4096, Math.min(this.info.wtmax || 65536, 1024 * 1024));
    const pieces = Math.ceil(data.byteLength / step);
    const verifiers = new Set<string>();
    let unstable = false;
    const writePiece = async (offset: number, end: number, stable: number) => {
      while (offset < end) {
        const piece = data.subarray(offset, end);
        const w = await this.client.write(fh, offset, piece, stable, where, signal);
        if (w.count === 0) throw new Error(`NFS WRITE of ${where} wrote nothing`);
        if (w.committed !== STABLE.FILE_SYNC) unstable = true;
        verifiers.add(w.verifier);
        offset += w.count; // a short write: the rest goes again
      }
    };
    await pool(pieces, (i) => writePiece(i * step, Math.min(data.byteLength, (i + 1) * step), STABLE.UNSTABLE));
    if (!unstable) return;
    const committed = await this.client.commit(fh, where, signal);
    if (verifiers.size === 1 && verifiers.has(committed)) return;
    // The verifier changed: the server restarted and may have lost unstable data; write it again synchronously.
    await pool(pieces, (i) => writePiece(i * step, Math.min(data.byteLength, (i + 1) * step), STABLE.FILE_SYNC));
  }

  /** `length` bytes from `offset` (fewer at the end of the file). */
  async readFile(fh: Buffer, offset: number, length: number, rel: string, signal?: AbortSignal): Promise<Buffer> {
    const where = this.where(rel);
    const step = Math.max(4096, Math.min(this.info.rtmax || 65536, 1024 * 1024));
    const out = Buffer.alloc(length);
    const got = new Array<number>(Math.ceil(length / step)).fill(0);
    await pool(got.length, async (i) => {
      let at = i * step;
      const end = Math.min(length, at + step);
      while (at < end) {
        const { data, eof } = await this.client.read(fh, offset + at, end - at, where, signal);
        data.copy(out, at);
        at += data.length;
        got[i] = at - i * step;
        if (eof || data.length === 0) break;
      }
    });
    // Everything up to the first short piece is the file's content.
    let total = 0;
    for (let i = 0; i < got.length; i++) {
      total += got[i]!;
      if (got[i]! < Math.min(step, length - i * step)) break;
    }
    return total === length ? out : out.subarray(0, total);
  }

  /** Total, free and available bytes of the file system holding the folder. */
  fsstat(signal?: AbortSignal) {
    return this.client.fsstat(this.root, this.sharePath, signal);
  }

  async close(): Promise<void> {
    await this.mounter.unmount(this.exportPath);
    this.mounter.close();
    this.client.close();
  }
}

async function lookUpOrMake(client: Nfs3Client, dir: Buffer, name: string, where: string, create: boolean, signal?: AbortSignal): Promise<Buffer> {
  let found: { handle: Buffer; attributes?: Attributes } | undefined;
  try {
    found = await client.lookup(dir, name, where, signal);
  } catch (err) {
    if (!create || !isNfsStatus(err, NFS3ERR.NOENT)) throw err;
    try {
      return await client.mkdir(dir, name, where, signal);
    } catch (again) {
      if (!isNfsStatus(again, NFS3ERR.EXIST)) throw again;
      found = await client.lookup(dir, name, where, signal); // made meanwhile by a parallel writer
    }
  }
  const type = found.attributes?.type ?? (await client.getattr(found.handle, where)).type;
  if (type !== FILE_TYPE.DIRECTORY) throw new Error(`${where} is not a folder`);
  return found.handle;
}

/**
 * Servers mount an export by its exact path (knfsd also mounts folders inside
 * it, Ganesha does not): ask for the longest exported path the share path
 * starts with, and walk the rest with LOOKUP.
 */
async function mountLongest(mounter: MountClient, path: string, signal?: AbortSignal): Promise<{ exportPath: string; handle: Buffer }> {
  const exported = await mounter.exports(signal).catch(() => [] as string[]);
  const inside = (e: string) => e === '/' || path === e || path.startsWith(`${e.replace(/\/+$/, '')}/`);
  const candidates = exported.filter(inside).sort((a, b) => b.length - a.length);
  const tried = candidates.length > 0 ? candidates : [path];
  let last: unknown;
  for (const exportPath of tried) {
    try {
      return { exportPath, handle: await mounter.mount(exportPath, signal) };
    } catch (err) {
      last = err;
      if (!(err instanceof MountError)) throw err;
    }
  }
  if (candidates.length === 0 && exported.length > 0) throw new Error(`${path} is not inside any export of the server (it exports ${exported.join(', ')})`);
  throw last;
}

export { CONVENTIONAL_MOUNT_PORT };
