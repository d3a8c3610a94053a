/**
 * A hardened Linux repository: the blobs live on a host where Rampart's
 * transport service (src/hardened/transport-service.mjs) runs as root. Rampart
 * holds no login for that host, only a TLS client certificate the service
 * pinned at install; the service makes every chunk, index and manifest
 * immutable (chattr +i) until its expiry and refuses early deletes itself.
 */
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { BlobNotFoundError, checkKey, isRetainedKey, type BlobBackend, type BlobInfo } from './backend.js';
import { ChunkStoreError } from './errors.js';

/** What Rampart keeps after installing the service: the address, the pinned server certificate and its own client identity. */
export interface HardenedServiceAccess {
  host: string;
  port: number;
  serverCertificatePem: string;
  clientCertificatePem: string;
  /** A secret: stays in Rampart's vault, never in a message. */
  clientPrivateKeyPem: string;
}

const DAY_MS = 86_400_000;
/** Keys per retention call: one request extends this many chunks. */
const RETAIN_BATCH = 1000;

export interface HardenedBackend extends BlobBackend {
  /** Free and total bytes of the repository's file system, as the service reports them. */
  capacity(): Promise<{ capacity: number; available: number }>;
}

export function hardenedBackend(access: HardenedServiceAccess, options: { immutableDays: number; timeoutMs?: number }): HardenedBackend {
  const where = `hardened repository on ${access.host}:${access.port}`;
  const pinned = new X509Certificate(access.serverCertificatePem).fingerprint256;
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    cert: access.clientCertificatePem,
    key: access.clientPrivateKeyPem,
    ca: access.serverCertificatePem,
    // The service's certificate is self-signed and pinned: the fingerprint is the identity, not a host name.
    checkServerIdentity: (_host, cert) => (cert.fingerprint256 === pinned ? undefined : new Error(`the ${where} presented another certificate (${cert.fingerprint256})`)),
  });
  const call = (method: string, path: string, body?: Uint8Array | string, signal?: AbortSignal) =>
    new Promise<{ status: number; data: Buffer }>((resolve, reject) => {
      const req = https.request(
        {
          host: access.host,
          port: access.port,
          method,
          path,
          agent,
          timeout: options.timeoutMs ?? 60_000,
          signal,
          headers: body ? { 'content-length': Buffer.byteLength(body) } : {},
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, data: Buffer.concat(parts) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`the ${where} did not answer in time`)));
      req.on('error', reject);
      req.end(body);
    });
  const json = async <T>(method: string, path: string, body?: unknown, key?: string): Promise<T> => {
    const out = await call(method, path, body === undefined ? undefined : JSON.stringify(body));
    return answer<T>(out, key ?? path);
  };
  const answer = <T>(out: { status: number; data: Buffer }, key: string): T => {
    if (out.status === 200) return JSON.parse(out.data.toString('utf8')) as T;
    const message = (() => {
      try {
        return (JSON.parse(out.data.toString('utf8')) as { message?: string }).message;
      } catch {
        return undefined;
      }
    })();
    if (out.status === 404) throw new BlobNotFoundError(key, where);
    if (out.status === 423) throw new ChunkStoreError('Immutable', `${message ?? `${key} is immutable`} (${where})`);
    throw new Error(`The ${where} answered ${out.status}: ${message ?? 'no reason given'}`);
  };
  const o = (key: string) => `/o/${encodeURIComponent(checkKey(key)).replace(/%2F/g, '/')}`;
  const until = () => Date.now() + options.immutableDays * DAY_MS;
  const putPath = (key: string, ifAbsent: boolean) => `${o(key)}?ifAbsent=${ifAbsent ? 1 : 0}&until=${isRetainedKey(key) ? Math.ceil(until()) : 0}`;
  const extend = async (keys: string[], date: Date) => {
    const retained = keys.filter(isRetainedKey);
    for (let i = 0; i < retained.length; i += RETAIN_BATCH) await json('POST', '/retain', { keys: retained.slice(i, i + RETAIN_BATCH), until: date.getTime() });
  };

  return {
    description: where,
    async put(key, data, signal) {
      answer(await call('PUT', putPath(key, false), data, signal), key);
    },
    async putIfAbsent(key, data, signal) {
      return answer<{ created: boolean }>(await call('PUT', putPath(key, true), data, signal), key).created;
    },
    async get(key, range, signal) {
      const out = await call('GET', range ? `${o(key)}?offset=${range.offset}&length=${range.length}` : o(key), undefined, signal);
      if (out.status !== 200) answer(out, key);
      return out.data;
    },
    async head(key) {
      try {
        const st = await json<BlobInfo>('GET', `/stat/${o(key).slice(3)}`, undefined, key);
        return { key, size: st.size, modifiedMs: st.modifiedMs };
      } catch (err) {
        if (err instanceof BlobNotFoundError) return undefined;
        throw err;
      }
    },
    async *list(prefix) {
      yield* await json<BlobInfo[]>('GET', `/list?prefix=${encodeURIComponent(prefix)}`);
    },
    async delete(key) {
      await json('DELETE', o(key), undefined, key);
    },
    async rename(from, to) {
      await json('POST', '/rename', { from: checkKey(from), to: checkKey(to) }, from);
    },
    async touch(key) {
      // An immutable file's times cannot change; a dedup hit extends its expiry instead (which also keeps GC off it).
      if (isRetainedKey(key)) await extend([key], new Date(until()));
      else await json('POST', `/touch/${o(key).slice(3)}`, undefined, key);
    },
    async close() {
      agent.destroy();
    },
    capacity: () => json('GET', '/capacity'),
    retention: {
      days: options.immutableDays,
      extend,
      async until(key) {
        try {
          const st = await json<{ until?: string }>('GET', `/stat/${o(key).slice(3)}`, undefined, key);
          return st.until ? new Date(st.until) : undefined;
        } catch (err) {
          if (err instanceof BlobNotFoundError) return undefined;
          throw err;
        }
      },
    },
  };
}
