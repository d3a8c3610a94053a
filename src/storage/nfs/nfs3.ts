/**
 * The NFSv3 procedures Rampart uses (RFC 1813 §3), one method each over a
 * pipelined RPC connection. Paths in arguments are only for error messages;
 * the server is addressed by file handles.
 */
import { RpcConnection, type RpcOptions } from './rpc.js';
import { XdrReader, XdrWriter } from './xdr.js';
import { Nfs3Error } from './errors.js';

export const NFS_PROGRAM = 100003;
const V3 = 3;
const P = {
  NULL: 0,
  GETATTR: 1,
  SETATTR: 2,
  LOOKUP: 3,
  READ: 6,
  WRITE: 7,
  CREATE: 8,
  MKDIR: 9,
  REMOVE: 12,
  RMDIR: 13,
  RENAME: 14,
  LINK: 15,
  READDIRPLUS: 17,
  FSSTAT: 18,
  FSINFO: 19,
  COMMIT: 21,
};

export const FILE_TYPE = { REGULAR: 1, DIRECTORY: 2 } as const;
export const STABLE = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;

export interface Attributes {
  type: number;
  mode: number;
  size: number;
  mtimeMs: number;
}

export interface DirEntry {
  name: string;
  attributes?: Attributes;
  handle?: Buffer;
}

export interface FsInfo {
  rtmax: number;
  wtmax: number;
}

export interface FsStat {
  totalBytes: number;
  freeBytes: number;
  /** Free to this client (the quota-aware figure, like statfs's f_bavail). */
  availableBytes: number;
}

function attributes(r: XdrReader): Attributes {
  const type = r.u32();
  const mode = r.u32();
  r.u32(); // nlink
  r.u32(); // uid
  r.u32(); // gid
  const size = r.u64();
  r.u64(); // used
  r.u32(); // rdev
  r.u32();
  r.u64(); // fsid
  r.u64(); // fileid
  r.u32(); // atime
  r.u32();
  const mtimeMs = r.u32() * 1000 + Math.floor(r.u32() / 1e6);
  r.u32(); // ctime
  r.u32();
  return { type, mode, size, mtimeMs };
}

const postOpAttr = (r: XdrReader) => (r.bool() ? attributes(r) : undefined);

function wcc(r: XdrReader) {
  if (r.bool()) {
    r.u64();
    r.fixed(16);
  }
  postOpAttr(r);
}

const postOpHandle = (r: XdrReader) => (r.bool() ? Buffer.from(r.opaque()) : undefined);

/** An sattr3 that sets only `mode` (when given) and, with `mtimeMs`, the modification time. */
function sattr(w: XdrWriter, set: { mode?: number; mtimeMs?: number } = {}) {
  if (set.mode !== undefined) w.bool(true).u32(set.mode);
  else w.bool(false);
  w.bool(false).bool(false).bool(false); // uid, gid, size
  w.u32(0); // atime: don't change
  if (set.mtimeMs !== undefined)
    w.u32(2)
      .u32(Math.floor(set.mtimeMs / 1000))
      .u32((set.mtimeMs % 1000) * 1e6);
  else w.u32(0);
}

const dirop = (w: XdrWriter, dir: Buffer, name: string) => w.opaque(dir).string(name);

export class Nfs3Client {
  readonly rpc: RpcConnection;

  constructor(host: string, port: number, options: RpcOptions) {
    this.rpc = new RpcConnection(host, port, options);
  }

  private async call(proc: number, args: XdrWriter | undefined, op: string, path: string, signal?: AbortSignal): Promise<XdrReader> {
    return this.rpc.call(NFS_PROGRAM, V3, proc, args, signal).then((r) => {
      const status = r.u32();
      if (status !== 0) throw new Nfs3Error(status, op, path);
      return r;
    });
  }

  async null(signal?: AbortSignal): Promise<void> {
    await this.rpc.call(NFS_PROGRAM, V3, P.NULL, undefined, signal);
  }

  async getattr(fh: Buffer, path: string): Promise<Attributes> {
    return attributes(await this.call(P.GETATTR, new XdrWriter().opaque(fh), 'GETATTR', path));
  }

  /** Sets the modification time (GC's grace window reads it). */
  async setMtime(fh: Buffer, mtimeMs: number, path: string): Promise<void> {
    const w = new XdrWriter().opaque(fh);
    sattr(w, { mtimeMs });
    w.bool(false); // no ctime guard
    await this.call(P.SETATTR, w, 'SETATTR', path);
  }

  async lookup(dir: Buffer, name: string, path: string, signal?: AbortSignal): Promise<{ handle: Buffer; attributes?: Attributes }> {
    const r = await this.call(P.LOOKUP, dirop(new XdrWriter(), dir, name), 'LOOKUP', path, signal);
    const handle = Buffer.from(r.opaque());
    const attrs = postOpAttr(r);
    return attrs ? { handle, attributes: attrs } : { handle };
  }

  async read(fh: Buffer, offset: number, count: number, path: string, signal?: AbortSignal): Promise<{ data: Buffer; eof: boolean }> {
    const r = await this.call(P.READ, new XdrWriter().opaque(fh).u64(offset).u32(count), 'READ', path, signal);
    postOpAttr(r);
    r.u32(); // count
    const eof = r.bool();
    return { data: r.opaque(), eof };
  }

  /** Returns how much was written, how stably, and the server's write verifier (it changes when the server restarts). */
  async write(fh: Buffer, offset: number, data: Uint8Array, stable: number, path: string, signal?: AbortSignal): Promise<{ count: number; committed: number; verifier: string }> {
    const r = await this.call(P.WRITE, new XdrWriter().opaque(fh).u64(offset).u32(data.byteLength).u32(stable).opaque(data), 'WRITE', path, signal);
    wcc(r);
    return { count: r.u32(), committed: r.u32(), verifier: r.fixed(8).toString('hex') };
  }

  /** Flushes UNSTABLE writes to stable storage; returns the write verifier to compare. */
  async commit(fh: Buffer, path: string, signal?: AbortSignal): Promise<string> {
    const r = await this.call(P.COMMIT, new XdrWriter().opaque(fh).u64(0).u32(0), 'COMMIT', path, signal);
    wcc(r);
    return r.fixed(8).toString('hex');
  }

  /** GUARDED fails with EXIST when the name is taken; UNCHECKED opens (and keeps) an existing file. */
  async create(dir: Buffer, name: string, guarded: boolean, path: string, signal?: AbortSignal): Promise<Buffer> {
    const w = dirop(new XdrWriter(), dir, name).u32(guarded ? 1 : 0);
    sattr(w, { mode: 0o640 });
    const r = await this.call(P.CREATE, w, 'CREATE', path, signal);
    const handle = postOpHandle(r);
    return handle ?? (await this.lookup(dir, name, path, signal)).handle;
  }

  async mkdir(dir: Buffer, name: string, path: string, signal?: AbortSignal): Promise<Buffer> {
    const w = dirop(new XdrWriter(), dir, name);
    sattr(w, { mode: 0o750 });
    const r = await this.call(P.MKDIR, w, 'MKDIR', path, signal);
    return postOpHandle(r) ?? (await this.lookup(dir, name, path, signal)).handle;
  }

  async remove(dir: Buffer, name: string, path: string): Promise<void> {
    await this.call(P.REMOVE, dirop(new XdrWriter(), dir, name), 'REMOVE', path);
  }

  async rmdir(dir: Buffer, name: string, path: string): Promise<void> {
    await this.call(P.RMDIR, dirop(new XdrWriter(), dir, name), 'RMDIR', path);
  }

  /** Replaces the target atomically when it exists (RFC 1813 §3.3.14). */
  async rename(fromDir: Buffer, fromName: string, toDir: Buffer, toName: string, path: string): Promise<void> {
    await this.call(P.RENAME, dirop(dirop(new XdrWriter(), fromDir, fromName), toDir, toName), 'RENAME', path);
  }

  /** A hard link: fails with EXIST when the name is taken, the create-only step of putIfAbsent. */
  async link(file: Buffer, dir: Buffer, name: string, path: string): Promise<void> {
    await this.call(P.LINK, dirop(new XdrWriter().opaque(file), dir, name), 'LINK', path);
  }

  /** Every entry of a folder with its attributes, page by page (READDIRPLUS saves a LOOKUP per name). */
  async *readdir(dir: Buffer, path: string): AsyncGenerator<DirEntry> {
    let cookie = 0;
    let verifier: Buffer = Buffer.alloc(8);
    for (;;) {
      const r = await this.call(
        P.READDIRPLUS,
        new XdrWriter()
          .opaque(dir)
          .u64(cookie)
          .fixed(verifier)
          .u32(32 * 1024)
          .u32(256 * 1024),
        'READDIRPLUS',
        path,
      );
      postOpAttr(r);
      verifier = Buffer.from(r.fixed(8));
      const page: DirEntry[] = [];
      while (r.bool()) {
        r.u64(); // fileid
        const name = r.string();
        cookie = r.u64();
        const attrs = postOpAttr(r);
        const handle = postOpHandle(r);
        if (name === '.' || name === '..') continue;
        page.push({ name, ...(attrs ? { attributes: attrs } : {}), ...(handle ? { handle } : {}) });
      }
      const eof = r.bool();
      yield* page;
      if (eof) return;
    }
  }

  async fsstat(root: Buffer, path: string, signal?: AbortSignal): Promise<FsStat> {
    const r = await this.call(P.FSSTAT, new XdrWriter().opaque(root), 'FSSTAT', path, signal);
    postOpAttr(r);
    return { totalBytes: r.u64(), freeBytes: r.u64(), availableBytes: r.u64() };
  }

  async fsinfo(root: Buffer, path: string, signal?: AbortSignal): Promise<FsInfo> {
    const r = await this.call(P.FSINFO, new XdrWriter().opaque(root), 'FSINFO', path, signal);
    postOpAttr(r);
    const rtmax = r.u32();
    r.u32(); // rtpref
    r.u32(); // rtmult
    const wtmax = r.u32();
    return { rtmax, wtmax };
  }

  close() {
    this.rpc.close();
  }
}
