/**
 * A user-space SMB2 client for repositories on SMB shares (this kernel has no
 * CIFS, so shares cannot be mounted). The wire work is the `node-smb2` package's:
 * TCP framing, packet structures (CREATE, CLOSE, READ, WRITE, QUERY_DIRECTORY,
 * SET_INFO) and NTLMv2. This file only drives it: it sends each request itself
 * (so STATUS_PENDING interim answers wait for the final one, errors carry the
 * NT status, pipelined reads and writes are bounded, a dead socket fails every
 * request at once) and adds QUERY_INFO, which the package lacks, to its packet
 * table for the share's capacity (FileFsFullSizeInformation, in smb-wire.ts).
 *
 * What it speaks: SMB 2.0.2 and 2.1 dialects, NTLMv2 user/password login, no
 * Kerberos, no signing, no encryption. A server that requires signing, or a
 * share flagged ENCRYPT_DATA, is refused with a message that says so (Samba
 * requiring encryption denies the session outright: an access-denied login).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import {
  Access,
  Client,
  Command,
  Disposition,
  fromFiletime,
  IO_DEPTH,
  isNotFound,
  MAX_IO,
  ntlm,
  NtStatus,
  Options,
  ShareAll,
  SmbError,
  toFiletime,
  u32,
  u64,
  type DirectoryEntryWire,
  type WireResponse,
} from './smb-wire.js';

export { isNotFound, NtStatus, parseSharePath, SmbError, splitUserName } from './smb-wire.js';

export interface SmbLogin {
  username: string;
  domain: string;
  password: string;
}

export interface SmbEntry {
  name: string;
  isDirectory: boolean;
  size: number;
  modifiedMs: number;
}

interface OpenFile {
  fileId: string;
  size: number;
  modifiedMs: number;
  isDirectory: boolean;
}

export interface SmbShareSession {
  /** `\\server\share`, for messages. */
  readonly where: string;
  stat(path: string): Promise<SmbEntry | undefined>;
  /** The file, or `length` bytes from `offset` (fewer at its end); throws SmbError (not found) when absent. */
  read(path: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /** Writes a new file; fails with ObjectNameCollision when it exists. */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string, replace: boolean): Promise<void>;
  /** Removes a file; absent is fine. */
  remove(path: string): Promise<void>;
  removeFolder(path: string): Promise<void>;
  /** Creates the folder (parents too); existing is fine. */
  makeFolder(path: string): Promise<void>;
  list(path: string): Promise<SmbEntry[]>;
  setModified(path: string, ms: number): Promise<void>;
  /** Total and free bytes of the share's volume as the logged-in user may use it. */
  space(): Promise<{ totalBytes: number; freeBytes: number }>;
  close(): Promise<void>;
}

/**
 * Logs in to `\\server\share` with NTLMv2 and connects the tree. `port` is for
 * tests only (Veeam's share paths have none). Errors name the share, never the password.
 */
export async function connectSmbShare(location: { server: string; share: string }, login: SmbLogin, options: { timeoutMs: number; port?: number }): Promise<SmbShareSession> {
  const where = `\\\\${location.server}\\${location.share}`;
  const client = new Client(location.server, { port: options.port ?? 445, connectTimeout: options.timeoutMs, requestTimeout: options.timeoutMs });
  let socketError: Error | undefined;
  // The package prints socket errors to the console; keep them for our own messages instead.
  client.onError = (err) => {
    socketError = err;
  };
  const inFlight = new Set<(err: Error) => void>();
  const failAll = (err: Error) => {
    for (const fail of [...inFlight]) fail(err);
  };
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`Cannot reach ${where} on port ${options.port ?? 445}: ${(err as Error).message === 'connect_timeout' ? 'no answer' : (err as Error).message}`);
  }
  const socket = client.socket!;
  socket.on('close', () => failAll(new Error(`the connection to ${where} was closed${socketError ? ` (${socketError.message})` : ''}`)));
  // The package opens the socket half-open: the server's FIN alone would not close it, and requests would wait for their timeout.
  socket.on('end', () => {
    client.connected = false;
    socket.destroy();
  });
  let sessionId: string | undefined;
  let treeId: number | undefined;

  // SMB2 credits (MS-SMB2 3.2.4.1.2): each request spends one, each answer grants some; a client
  // that sends beyond its grant is disconnected. The package does not count them: this does.
  let credits = 1;
  const creditWaiters: (() => void)[] = [];
  const grant = (n: number) => {
    credits += n;
    if (credits > 0) for (const wake of creditWaiters.splice(0)) wake();
  };
  const closed = () => new Error(`the connection to ${where} is closed`);
  socket.on('close', () => {
    for (const wake of creditWaiters.splice(0)) wake();
  });

  async function send(command: number, body: Record<string, unknown>, what: string, accept: readonly number[] = []): Promise<WireResponse> {
    while (credits < 1 && client.connected) await new Promise<void>((r) => creditWaiters.push(r));
    if (!client.connected) throw closed();
    credits--;
    const request = client.createRequest({ type: command, ...(sessionId ? { sessionId } : {}), ...(treeId !== undefined ? { treeId } : {}) }, body);
    const id = request.header.messageId;
    const bytes = request.serialize();
    return new Promise<WireResponse>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        inFlight.delete(fail);
        client.responseCallbackMap.delete(id);
      };
      const fail = (err: Error) => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`${what}: ${where} did not answer within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs);
      const onResponse = (response: WireResponse) => {
        grant(Number(response.header.credit ?? 0));
        const status = response.header.status >>> 0;
        if (status === NtStatus.Pending) {
          // An interim answer: the package drops our callback after it, so take the final one
          // from its map if it already came in the same read, else wait for it again.
          queueMicrotask(() => {
            const early = client.responseMap.get(id);
            if (early) {
              client.responseMap.delete(id);
              onResponse(early);
            } else client.responseCallbackMap.set(id, onResponse);
          });
          return;
        }
        done();
        if (status === NtStatus.Success || accept.includes(status)) resolve(response);
        else reject(new SmbError(status, what));
      };
      inFlight.add(fail);
      client.responseCallbackMap.set(id, onResponse);
      client.socket!.write(bytes);
    });
  }

  try {
    const negotiated = await send(Command.Negotiate, { dialects: [0x0202, 0x0210], clientGuid: randomBytes(16) }, `Negotiating with ${where}`);
    const securityMode = Number(negotiated.body.securityMode ?? 0);
    if (securityMode & 0x2) throw new Error(`${where} requires SMB signing, which Rampart's SMB client does not do (it speaks SMB 2.0.2/2.1 with NTLMv2, unsigned)`);
    const me = hostname().split('.')[0]!.slice(0, 15) || 'RAMPART';
    const first = await send(Command.SessionSetup, { buffer: ntlm.encodeNegotiationMessage(me, login.domain, 'v2') }, `Logging in to ${where}`, [NtStatus.MoreProcessingRequired]);
    sessionId = first.header.sessionId;
    const challenge = ntlm.decodeChallengeMessage(first.body.buffer!);
    // The package announces the NTLM version on the console from inside this synchronous call.
    const log = console.log;
    let authenticate: Buffer;
    try {
      console.log = () => undefined;
      authenticate = ntlm.encodeAuthenticationMessage(login.username, me, login.domain, challenge, login.password, 0, 'v2');
    } finally {
      console.log = log;
    }
    try {
      await send(Command.SessionSetup, { buffer: authenticate }, `Logging in to ${where}`);
    } catch (err) {
      if (err instanceof SmbError && err.status === NtStatus.LogonFailure)
        throw new SmbError(err.status, `Logging in to ${where} as "${login.domain ? `${login.domain}\\` : ''}${login.username}"`);
      throw err;
    }
    const tree = await send(Command.TreeConnect, { buffer: Buffer.from(`\\\\${location.server}\\${location.share}`, 'ucs2') }, `Connecting to ${where}`);
    treeId = tree.header.treeId;
    // Share flags (MS-SMB2 2.2.10): ENCRYPT_DATA means the share refuses unencrypted access.
    if (Number(tree.body.shareFlags ?? 0) & 0x8000) throw new Error(`${where} requires SMB encryption, which Rampart's SMB client does not do`);
  } catch (err) {
    await client.close().catch(() => undefined);
    if (!client.connected && client.socket) client.socket.destroy();
    throw err;
  }

  const name = (path: string) => Buffer.from(path.replace(/\//g, '\\'), 'ucs2');

  async function open(path: string, access: number, disposition: number, createOptions: number, what: string): Promise<OpenFile> {
    const buffer = name(path);
    const r = await send(
      Command.Create,
      {
        buffer: buffer.length ? buffer : Buffer.alloc(0),
        impersonationLevel: 2,
        desiredAccess: access,
        fileAttributes: 0,
        shareAccess: ShareAll,
        createDisposition: disposition,
        createOptions,
        nameOffset: 0x78,
        nameLength: buffer.length,
        createContextsOffset: 0,
      },
      what,
    );
    const attributes = Number(r.body.fileAttributes ?? 0);
    return { fileId: String(r.body.fileId), size: Number(r.body.endOfFile ?? 0n), modifiedMs: fromFiletime(r.body.lastWriteTime), isDirectory: (attributes & 0x10) !== 0 };
  }
  const closeFile = (file: OpenFile) => send(Command.Close, { fileId: file.fileId }, `Closing a file on ${where}`).then(() => undefined);
  async function withOpen<T>(file: OpenFile, work: (file: OpenFile) => Promise<T>): Promise<T> {
    try {
      return await work(file);
    } finally {
      await closeFile(file).catch(() => undefined);
    }
  }
  /** Runs `count` numbered requests with at most IO_DEPTH in flight; the first failure ends it. */
  async function pipelined(count: number, one: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(IO_DEPTH, count) }, lane));
  }
  const setInfo = (file: OpenFile, infoClass: number, buffer: Buffer, what: string) =>
    send(Command.SetInfo, { infoType: 1, fileInfoClass: infoClass, fileId: file.fileId, buffer, bufferOffset: 96 }, what).then(() => undefined);

  return {
    where,
    async stat(path) {
      let file: OpenFile;
      try {
        file = await open(path, Access.ReadAttributes, Disposition.Open, 0, `Looking up ${path} on ${where}`);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      await closeFile(file).catch(() => undefined);
      return { name: path.split(/[\\/]/).pop() ?? path, isDirectory: file.isDirectory, size: file.size, modifiedMs: file.modifiedMs };
    },
    async read(path, range) {
      const what = `Reading ${path} on ${where}`;
      return withOpen(await open(path, Access.ReadData | Access.ReadAttributes, Disposition.Open, Options.NonDirectory, what), async (file) => {
        const start = range?.offset ?? 0;
        const end = Math.min(file.size, range ? start + range.length : file.size);
        const total = Math.max(0, end - start);
        const out = Buffer.alloc(total);
        let got = total;
        await pipelined(Math.ceil(total / MAX_IO), async (i) => {
          const at = i * MAX_IO;
          const length = Math.min(MAX_IO, total - at);
          const r = await send(Command.Read, { fileId: file.fileId, length: u32(length), offset: u64(start + at), padding: 0x50 }, what);
          const data = r.body.buffer ?? Buffer.alloc(0);
          data.copy(out, at);
          // A short read means the file ended early (it shrank since the open).
          if (data.length < length) got = Math.min(got, at + data.length);
        });
        return got === total ? out : out.subarray(0, got);
      });
    },
    async writeNew(path, data) {
      const what = `Writing ${path} on ${where}`;
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return withOpen(await open(path, Access.WriteData | Access.ReadAttributes, Disposition.Create, Options.NonDirectory, what), async (file) => {
        const step = MAX_IO - 0x71; // as the package: a write request must fit 64 KiB with its header
        await pipelined(Math.ceil(bytes.length / step), async (i) => {
          const at = i * step;
          await send(Command.Write, { fileId: file.fileId, offset: u64(at), buffer: bytes.subarray(at, Math.min(bytes.length, at + step)) }, what);
        });
      });
    },
    async rename(from, to, replace) {
      const what = `Renaming ${from} to ${to} on ${where}`;
      const target = name(to);
      // FILE_RENAME_INFORMATION (MS-FSCC 2.4.37.2): ReplaceIfExists, reserved, RootDirectory 0, name relative to the share.
      const info = Buffer.alloc(20 + target.length);
      info.writeUInt8(replace ? 1 : 0, 0);
      info.writeUInt32LE(target.length, 16);
      target.copy(info, 20);
      await withOpen(await open(from, Access.Delete | Access.ReadAttributes | Access.Synchronize, Disposition.Open, 0, what), (file) => setInfo(file, 10, info, what));
    },
    async remove(path) {
      let file: OpenFile;
      try {
        file = await open(path, Access.Delete | Access.ReadAttributes, Disposition.Open, Options.NonDirectory | Options.DeleteOnClose, `Deleting ${path} on ${where}`);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      await closeFile(file);
    },
    async removeFolder(path) {
      try {
        await closeFile(
          await open(path, Access.Delete | Access.ReadAttributes, Disposition.Open, Options.Directory | Options.DeleteOnClose, `Deleting folder ${path} on ${where}`),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async makeFolder(path) {
      const parts = path.split(/[\\/]+/).filter((p) => p !== '');
      for (let i = 1; i <= parts.length; i++) {
        const dir = parts.slice(0, i).join('\\');
        const file = await open(dir, Access.ReadAttributes, Disposition.OpenIf, Options.Directory, `Creating folder ${dir} on ${where}`);
        await closeFile(file);
      }
    },
    async list(path) {
      const what = `Listing ${path || 'the share root'} on ${where}`;
      return withOpen(await open(path, Access.ListDirectory | Access.ReadAttributes | Access.Synchronize, Disposition.Open, Options.Directory, what), async (dir) => {
        const entries: SmbEntry[] = [];
        for (;;) {
          const r = await send(
            Command.QueryDirectory,
            { fileInformationClass: 37, fileId: dir.fileId, fileNameOffset: 96, fileNameLength: 2, outputBufferLength: MAX_IO, buffer: Buffer.from('*', 'ucs2') },
            what,
            [NtStatus.NoMoreFiles],
          );
          if (r.header.status >>> 0 === NtStatus.NoMoreFiles) break;
          const batch = Array.isArray(r.data) ? (r.data as DirectoryEntryWire[]) : [];
          for (const e of batch) {
            const base = e.filename.replace(/^\.\//, '');
            if (base === '.' || base === '..' || base === '') continue;
            entries.push({ name: base, isDirectory: e.type === 'Directory', size: Number(e.fileSize), modifiedMs: e.lastWriteTime.getTime() });
          }
          if (batch.length === 0) break;
        }
        return entries;
      });
    },
    async setModified(path, ms) {
      const what = `Setting the modification time of ${path} on ${where}`;
      // FILE_BASIC_INFORMATION (MS-FSCC 2.4.7): zero leaves a time or the attributes unchanged.
      const info = Buffer.alloc(40);
      info.writeBigUInt64LE(toFiletime(ms), 16);
      await withOpen(await open(path, Access.WriteAttributes | Access.ReadAttributes, Disposition.Open, 0, what), (file) => setInfo(file, 4, info, what));
    },
    async space() {
      const what = `Measuring ${where}`;
      return withOpen(await open('', Access.ReadAttributes | Access.Synchronize, Disposition.Open, Options.Directory, what), async (root) => {
        // FileFsFullSizeInformation (MS-FSCC 2.5.4): total, caller-available and actual-available units, sectors per unit, bytes per sector.
        const r = await send(Command.QueryInfo, { infoType: 2, fileInfoClass: 7, outputBufferLength: 32, fileId: root.fileId }, what);
        const b = r.body.buffer!;
        if (!b || b.length < 32) throw new Error(`${what}: the server's answer is too short`);
        const unit = b.readUInt32LE(24) * b.readUInt32LE(28);
        return { totalBytes: Number(b.readBigUInt64LE(0)) * unit, freeBytes: Number(b.readBigUInt64LE(8)) * unit };
      });
    },
    async close() {
      if (!client.connected) return;
      await Promise.race([
        (async () => {
          await send(Command.LogOff, {}, `Logging off ${where}`).catch(() => undefined);
        })(),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
      client.socket?.end();
      client.socket?.destroy();
      client.connected = false;
    },
  };
}
