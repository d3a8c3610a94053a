import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { Readable } from 'node:stream';
import { VsphereError } from './errors.js';
import type { VsphereSession } from './session.js';
import { bare, transportError } from './transport.js';

/**
 * The datastore HTTP file API (`/folder/<path>?dcPath=&dsName=`): reads with
 * Range as streams (memory stays bounded by the socket's buffers and the
 * consumer's backpressure) and streaming writes. Requests carry the session
 * cookie (a real vCenter requires it; vcsim does not check) and go through
 * the session's pinned agent.
 */

export interface DatastoreFile {
  datacenter: string;
  datastore: string;
  /** Path inside the datastore, `/`-separated, e.g. `vm1/vm1-flat.vmdk`. */
  path: string;
}

export function datastoreFileUrlPath(file: DatastoreFile): string {
  const encoded = file.path
    .split('/')
    .filter((p) => p !== '')
    .map(encodeURIComponent)
    .join('/');
  return `/folder/${encoded}?dcPath=${encodeURIComponent(file.datacenter)}&dsName=${encodeURIComponent(file.datastore)}`;
}

function describe(file: DatastoreFile): string {
  return `[${file.datastore}] ${file.path}`;
}

function httpFailure(session: VsphereSession, file: DatastoreFile, what: string, status: number): VsphereError {
  if (status === 404) return new VsphereError('FileNotFound', `${describe(file)} does not exist on ${session.label} (datacenter ${file.datacenter})`);
  if (status === 401 || status === 403)
    return new VsphereError('NoPermission', `${session.label} refused to ${what} ${describe(file)} (HTTP ${status}): the session lacks datastore access`);
  if (status === 416) return new VsphereError('InvalidArgument', `The range asked of ${describe(file)} lies beyond its end`);
  return new VsphereError('HttpError', `${session.label} answered HTTP ${status} when asked to ${what} ${describe(file)}`);
}

function send(session: VsphereSession, method: string, file: DatastoreFile, headers: Record<string, string | number>, signal?: AbortSignal) {
  const target = session.soap.target;
  const req = request({
    host: bare(target.host),
    port: target.port,
    path: datastoreFileUrlPath(file),
    method,
    agent: session.soap.agent,
    headers: { ...headers, ...(session.soap.cookie ? { Cookie: session.soap.cookie } : {}) },
    signal,
  });
  // Idle timeout: a stalled transfer fails instead of hanging (a slow one keeps going).
  req.setTimeout(session.soap.timeoutMs, () => req.destroy(new VsphereError('TimedOut', `${session.label} stalled during ${method} ${describe(file)}`)));
  return req;
}

export interface DatastoreRead {
  /** The bytes asked for, as a stream with backpressure. */
  stream: Readable;
  /** Bytes the stream will yield. */
  length: number;
  /** The whole file's size, when the server said (Content-Range or Content-Length). */
  fileSize?: number;
}

/**
 * GET a datastore file, or the byte range `[start, end)` of it. Rejects on
 * HTTP errors before any byte is yielded; the returned stream errors if the
 * connection breaks mid-way.
 */
export function readDatastoreFile(session: VsphereSession, file: DatastoreFile, range?: { start: number; end: number }, signal?: AbortSignal): Promise<DatastoreRead> {
  const headers: Record<string, string> = {};
  if (range) headers.Range = `bytes=${range.start}-${range.end - 1}`;
  return new Promise((resolve, reject) => {
    const req = send(session, 'GET', file, headers, signal);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200 && status !== 206) {
        res.resume();
        return reject(httpFailure(session, file, 'read', status));
      }
      if (range && status !== 206) {
        res.destroy();
        return reject(new VsphereError('HttpError', `${session.label} ignored the Range asked of ${describe(file)}`));
      }
      const length = Number(res.headers['content-length'] ?? -1);
      const total = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1];
      resolve({ stream: res, length, fileSize: total !== undefined ? Number(total) : status === 200 ? length : undefined });
    });
    req.on('error', (err) => reject(transportError(session.soap.target, err)));
    req.end();
  });
}

/** The size of a datastore file (HEAD). */
export function statDatastoreFile(session: VsphereSession, file: DatastoreFile, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = send(session, 'HEAD', file, {}, signal);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status !== 200) return reject(httpFailure(session, file, 'read', status));
      resolve(Number(res.headers['content-length'] ?? 0));
    });
    req.on('error', (err) => reject(transportError(session.soap.target, err)));
    req.end();
  });
}

/** PUT a datastore file from a stream of exactly `size` bytes (streamed, never buffered whole). */
export function writeDatastoreFile(session: VsphereSession, file: DatastoreFile, source: Readable | Buffer, size: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = send(session, 'PUT', file, { 'Content-Type': 'application/octet-stream', 'Content-Length': size }, signal);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve();
      else reject(httpFailure(session, file, 'write', status));
    });
    req.on('error', (err) => reject(transportError(session.soap.target, err)));
    if (Buffer.isBuffer(source)) req.end(source);
    else {
      source.on('error', (err) => req.destroy(err));
      source.pipe(req);
    }
  });
}

/**
 * Reads `target.length` bytes at `offset` of a datastore file straight into
 * `target` (one Range GET; no intermediate buffers, so a caller reading many
 * ranges at once holds only its own buffers). Fails unless the server returns
 * exactly the bytes asked for.
 */
export async function readDatastoreRangeInto(session: VsphereSession, file: DatastoreFile, offset: number, target: Buffer, signal?: AbortSignal): Promise<void> {
  if (target.length === 0) return;
  const { stream } = await readDatastoreFile(session, file, { start: offset, end: offset + target.length }, signal);
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (part: Buffer) => {
      if (got + part.length > target.length) {
        stream.destroy(new VsphereError('HttpError', `${session.label} returned more than the ${target.length} bytes asked of ${describe(file)} at offset ${offset}`));
        return;
      }
      got += part.copy(target, got);
    });
    stream.once('end', resolve);
    stream.once('error', (err) => reject(err instanceof VsphereError ? err : transportError(session.soap.target, err)));
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new VsphereError('HttpError', `${session.label} closed the connection while sending ${describe(file)} at offset ${offset}`));
    });
  });
  if (got !== target.length)
    throw new VsphereError('HttpError', `${session.label} returned ${got} bytes of ${describe(file)} at offset ${offset}, ${target.length} were asked for`);
}
