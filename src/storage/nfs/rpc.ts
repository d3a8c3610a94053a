/**
 * ONC RPC v2 (RFC 5531) over one TCP connection with record marking (§11):
 * calls are pipelined (each carries its own xid and its reply is matched by
 * it), so many READs and WRITEs are in flight at once without one connection
 * per request. The connection is opened on first use and again after it drops.
 */
import net from 'node:net';
import os from 'node:os';
import { XdrReader, XdrWriter } from './xdr.js';

export interface RpcCredentials {
  uid: number;
  gid: number;
}

export interface RpcOptions {
  /** Bound on connecting and on each call's answer. */
  timeoutMs: number;
  credentials?: RpcCredentials;
  /**
   * Send from a port below 1024. Linux's knfsd (and most NAS) refuse other
   * source ports by default ("secure" export option); only root may bind one.
   */
  privilegedPort?: boolean;
}

/** An RPC-level failure (program not offered, authentication refused): the server did not run the procedure. */
export class RpcError extends Error {
  override name = 'RpcError';
}

const AUTH_NONE = 0;
const AUTH_SYS = 1;
const LAST_FRAGMENT = 0x80000000;
/** A reply larger than this is a broken peer, not an NFS answer (rtmax is at most a few MiB). */
const MAX_RECORD = 64 * 1024 * 1024;

const ACCEPT_ERRORS: Record<number, string> = {
  1: 'the program is not offered by the server',
  2: 'the server does not offer this program version',
  3: 'the server does not know this procedure',
  4: 'the server could not decode the call',
  5: 'the server had a system error',
};
const AUTH_ERRORS: Record<number, string> = {
  1: 'bad credentials',
  2: 'the server refused the AUTH_SYS credentials (it may require Kerberos)',
  3: 'bad verifier',
  4: 'the server refused the verifier',
  5: 'the server requires stronger authentication (Kerberos is not supported by Rampart)',
};

interface Pending {
  resolve(r: XdrReader): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class RpcConnection {
  private socket?: net.Socket;
  private connecting?: Promise<net.Socket>;
  private pending = new Map<number, Pending>();
  private xid = Math.floor(Math.random() * 0xffffffff);
  private chunks: Buffer[] = [];
  private buffered = 0;
  private fragments: Buffer[] = [];
  private closed = false;
  private readonly cred: Buffer[];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly options: RpcOptions,
  ) {
    const c = options.credentials;
    const w = new XdrWriter();
    if (c) {
      const body = new XdrWriter()
        .u32(Math.floor(Date.now() / 1000))
        .string(os.hostname().slice(0, 255))
        .u32(c.uid)
        .u32(c.gid)
        .u32(1)
        .u32(c.gid);
      w.u32(AUTH_SYS).opaque(Buffer.concat(body.toBuffers()));
    } else w.u32(AUTH_NONE).u32(0);
    w.u32(AUTH_NONE).u32(0); // verifier
    this.cred = w.toBuffers();
  }

  private where() {
    return `${this.host}:${this.port}`;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(attempt = 0): Promise<net.Socket> {
    const privileged = this.options.privilegedPort && process.getuid?.() === 0;
    // A random reserved port: a few tries because another client may hold it.
    const localPort = privileged ? 600 + Math.floor(Math.random() * 424) : undefined;
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: this.host, port: this.port, ...(localPort ? { localPort } : {}) });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new RpcError(`no answer from ${this.where()} within ${this.options.timeoutMs / 1000} s`));
        }, this.options.timeoutMs);
        socket.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(Object.assign(new RpcError(`cannot connect to ${this.where()} (${err.code ?? err.message})`), { code: err.code }));
        });
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          socket.setNoDelay(true);
          this.attach(socket);
          resolve(socket);
        });
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (localPort && attempt < 8 && (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL')) return this.open(attempt + 1);
      throw err;
    }
  }

  private attach(socket: net.Socket) {
    this.socket = socket;
    this.chunks = [];
    this.buffered = 0;
    this.fragments = [];
    socket.on('data', (data) => this.receive(data));
    const fail = (why: string) => {
      if (this.socket === socket) this.socket = undefined;
      socket.destroy();
      this.failAll(new RpcError(`the connection to ${this.where()} ${why}`));
    };
    socket.on('error', (err: NodeJS.ErrnoException) => fail(`failed (${err.code ?? err.message})`));
    socket.on('close', () => fail('closed'));
  }

  private failAll(err: Error) {
    for (const [xid, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(xid);
      p.reject(err);
    }
  }

  private receive(data: Buffer) {
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.peek(4).readUInt32BE(0);
      const length = head & 0x7fffffff;
      if (length > MAX_RECORD) {
        this.socket?.destroy(new Error(`a record of ${length} bytes`));
        return;
      }
      if (this.buffered < 4 + length) return;
      const frame = this.take(4 + length).subarray(4);
      this.fragments.push(frame);
      if (head & LAST_FRAGMENT) {
        const record = this.fragments.length === 1 ? frame : Buffer.concat(this.fragments);
        this.fragments = [];
        this.reply(record);
      }
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.peek(n);
    const out = all.subarray(0, n);
    if (all.length === n) this.chunks.shift();
    else this.chunks[0] = all.subarray(n);
    this.buffered -= n;
    return out;
  }

  private reply(record: Buffer) {
    const r = new XdrReader(record);
    const xid = r.u32();
    const p = this.pending.get(xid);
    if (!p) return; // a reply to a call that timed out or was aborted
    this.pending.delete(xid);
    clearTimeout(p.timer);
    try {
      if (r.u32() !== 1) throw new RpcError('the server sent a call where a reply was expected');
      if (r.u32() === 1) {
        // MSG_DENIED
        if (r.u32() === 0) throw new RpcError(`${this.where()} does not speak RPC version 2`);
        const stat = r.u32();
        throw new RpcError(`${this.where()} refused the call: ${AUTH_ERRORS[stat] ?? `authentication error ${stat}`}`);
      }
      r.u32(); // verifier flavour
      r.opaque();
      const accept = r.u32();
      if (accept !== 0) throw new RpcError(`${this.where()}: ${ACCEPT_ERRORS[accept] ?? `RPC error ${accept}`}`);
      p.resolve(r);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  /** Calls `proc` of `prog`/`vers` with the XDR-encoded `args`; resolves with a reader at the results. */
  async call(prog: number, vers: number, proc: number, args?: XdrWriter, signal?: AbortSignal): Promise<XdrReader> {
    if (this.closed) throw new RpcError(`the connection to ${this.where()} is closed`);
    signal?.throwIfAborted();
    const socket = await this.connect();
    this.xid = (this.xid + 1) >>> 0;
    const xid = this.xid;
    const head = new XdrWriter().u32(xid).u32(0).u32(2).u32(prog).u32(vers).u32(proc).toBuffers();
    const body = [...head, ...this.cred, ...(args ? args.toBuffers() : [])];
    const length = body.reduce((n, b) => n + b.length, 0);
    const mark = Buffer.alloc(4);
    mark.writeUInt32BE((LAST_FRAGMENT | length) >>> 0);
    return new Promise<XdrReader>((resolve, reject) => {
      const onAbort = () => {
        const p = this.pending.get(xid);
        if (!p) return;
        this.pending.delete(xid);
        clearTimeout(p.timer);
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      };
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        signal?.removeEventListener('abort', onAbort);
        reject(new RpcError(`no answer from ${this.where()} within ${this.options.timeoutMs / 1000} s`));
      }, this.options.timeoutMs);
      this.pending.set(xid, {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        timer,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      // One write per call keeps each record contiguous on the stream.
      socket.write(Buffer.concat([mark, ...body], length + 4));
    });
  }

  close() {
    this.closed = true;
    this.failAll(new RpcError(`the connection to ${this.where()} is closed`));
    this.socket?.destroy();
    this.socket = undefined;
  }
}
