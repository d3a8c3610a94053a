import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { datastoreFileUrlPath, readDatastoreRangeInto, type DatastoreFile } from './datastore-files.js';
import { VsphereError } from './errors.js';
import type { VsphereSession } from './session.js';
import { bare, connectPinned, transportError } from './transport.js';

/**
 * Reading a disk file by Range GETs at the cost of the TLS stream, not of the
 * HTTP stack. Measured on this machine kind against vcsim (bench/backup.ts),
 * node:https spends 2.5–3 ms of CPU per MiB of body (a parser callback, a
 * Buffer and a stream push per TLS record) where the TLS socket alone spends
 * ~0.9: for a whole-disk read that is most of the backup's CPU. So the bytes
 * go from the socket (`onread` into one buffer per connection, no allocation
 * per record) straight into the caller's chunk buffer, over a few keep-alive
 * connections pinned like every other vSphere request.
 *
 * Only the plain answer is handled here: `206` with a Content-Length equal to
 * the range. Anything else (an error status, chunked framing, a server that
 * ignores Range) is read again through node:https (readDatastoreRangeInto),
 * which says what went wrong in its own words; after a framing it cannot
 * read, the reader uses node:https for the rest of the disk.
 */
export interface DatastoreRangeReader {
  /** Fills `target` with the bytes of the file at `offset` (exactly; fails otherwise). */
  readInto(offset: number, target: Buffer, signal?: AbortSignal): Promise<void>;
  /** Closes the connections (idempotent). */
  close(): void;
}

const HEAD_LIMIT = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Thrown inside the reader when an answer is not the plain 206 it reads itself. */
class NotPlain extends Error {
  constructor(readonly framing: boolean) {
    super('not a plain 206 answer');
  }
}

interface Job {
  target: Buffer;
  head: Buffer;
  inBody: boolean;
  got: number;
  keepAlive: boolean;
  resolve(): void;
  reject(err: Error): void;
}

class RangeConnection {
  job: Job | undefined;
  dead = false;
  socket!: TLSSocket;

  constructor(private readonly onIdle: (c: RangeConnection) => void) {}

  consume(data: Buffer): void {
    const job = this.job;
    if (!job) return this.fail(new VsphereError('HttpError', 'the server sent bytes no request asked for'));
    if (!job.inBody) {
      job.head = job.head.length ? Buffer.concat([job.head, data]) : Buffer.from(data);
      const end = job.head.indexOf(HEAD_END);
      if (end < 0) {
        if (job.head.length > HEAD_LIMIT) this.fail(new NotPlain(true));
        return;
      }
      const lines = job.head.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
      const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const rest = job.head.subarray(end + HEAD_END.length);
      job.head = Buffer.alloc(0);
      if (status !== 206) return this.fail(new NotPlain(false));
      if (headers.has('transfer-encoding') || Number(headers.get('content-length')) !== job.target.length) return this.fail(new NotPlain(true));
      job.keepAlive = (headers.get('connection') ?? '').toLowerCase() !== 'close';
      job.inBody = true;
      data = rest;
    }
    const n = Math.min(data.length, job.target.length - job.got);
    data.copy(job.target, job.got, 0, n);
    job.got += n;
    if (data.length > n) return this.fail(new VsphereError('HttpError', 'the server sent more bytes than the range asked for'));
    if (job.got === job.target.length) {
      this.job = undefined;
      job.resolve();
      if (job.keepAlive) this.onIdle(this);
      else this.close();
    }
  }

  fail(err: Error): void {
    this.close();
    const job = this.job;
    this.job = undefined;
    job?.reject(err);
  }

  close(): void {
    this.dead = true;
    this.socket?.destroy();
  }
}

export function datastoreRangeReader(session: VsphereSession, file: DatastoreFile, connections = 3): DatastoreRangeReader {
  const target = session.soap.target;
  const host = bare(target.host);
  const hostHeader = `${host.includes(':') ? `[${host}]` : host}:${target.port}`;
  const urlPath = datastoreFileUrlPath(file);
  const idle: RangeConnection[] = [];
  const all = new Set<RangeConnection>();
  const waiting: Array<(c: RangeConnection | undefined) => void> = [];
  let opening = 0;
  let closed = false;
  let plainHttp = false;

  const release = (c: RangeConnection) => {
    if (closed || c.dead) return void all.delete(c);
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
  };

  const open = () =>
    new Promise<RangeConnection>((resolve, reject) => {
      const connection = new RangeConnection(release);
      const buffer = Buffer.allocUnsafe(64 * 1024);
      opening++;
      // node's `onread` (tls.connect passes it to the socket) is missing from @types/node's TLS options.
      const options: ConnectionOptions & { onread: { buffer: Buffer; callback(n: number, buf: Uint8Array): void } } = {
        onread: { buffer, callback: (n, buf) => void connection.consume(Buffer.from(buf.buffer, buf.byteOffset, n)) },
      };
      connectPinned(target, options, (err, socket) => {
        opening--;
        if (err) return reject(transportError(target, err));
        connection.socket = socket;
        // Idle timeout: a stalled transfer fails instead of hanging (a slow one keeps going).
        socket.setTimeout(session.soap.timeoutMs, () => connection.fail(new VsphereError('TimedOut', `${session.label} stalled while sending [${file.datastore}] ${file.path}`)));
        socket.on('error', (e) => connection.fail(transportError(target, e)));
        socket.on('close', () => connection.fail(new VsphereError('Unreachable', `${session.label} closed the connection while sending [${file.datastore}] ${file.path}`)));
        all.add(connection);
        resolve(connection);
      });
    });

  const acquire = async (): Promise<RangeConnection> => {
    for (;;) {
      const c = idle.pop();
      if (!c) break;
      if (!c.dead) return c;
      all.delete(c);
    }
    if (all.size + opening < connections) return open();
    const c = await new Promise<RangeConnection | undefined>((resolve) => waiting.push(resolve));
    if (closed) throw new VsphereError('Canceled', `The reader of [${file.datastore}] ${file.path} is closed`);
    return c && !c.dead ? c : open();
  };

  const fetchInto = async (offset: number, into: Buffer, signal?: AbortSignal): Promise<void> => {
    const connection = await acquire();
    const done = new Promise<void>((resolve, reject) => {
      connection.job = { target: into, head: Buffer.alloc(0), inBody: false, got: 0, keepAlive: true, resolve, reject };
    });
    const onAbort = () => connection.fail(new VsphereError('Canceled', `The read of [${file.datastore}] ${file.path} was canceled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const cookie = session.soap.cookie ? `Cookie: ${session.soap.cookie}\r\n` : '';
      connection.socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${hostHeader}\r\nRange: bytes=${offset}-${offset + into.length - 1}\r\n${cookie}\r\n`);
      await done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    async readInto(offset, into, signal) {
      if (into.length === 0) return;
      signal?.throwIfAborted();
      if (closed) throw new VsphereError('Canceled', `The reader of [${file.datastore}] ${file.path} is closed`);
      if (!plainHttp) {
        try {
          return await fetchInto(offset, into, signal);
        } catch (err) {
          if (!(err instanceof NotPlain)) throw err;
          if (err.framing) plainHttp = true;
        }
      }
      await readDatastoreRangeInto(session, file, offset, into, signal);
    },
    close() {
      closed = true;
      for (const c of all) c.close();
      all.clear();
      idle.length = 0;
      for (const w of waiting.splice(0)) w(undefined);
    },
  };
}
