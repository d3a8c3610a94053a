import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';

/**
 * Replies smaller than this go out as they are: one that fits a single TCP segment (~1.4 KB
 * of payload) arrives no sooner compressed, and errors, single objects and short pages are
 * all below it. Lists of sessions, repositories or credentials are well above it.
 */
export const COMPRESSION_THRESHOLD_BYTES = 1400;

/** In the server's order of preference, as given to @fastify/compress. */
const ENCODINGS = ['br', 'gzip', 'deflate'] as const;
type Encoding = (typeof ENCODINGS)[number];

/** Brotli at quality 4, as @fastify/compress does: its maximum, 11, is far slower for little gain. */
const COMPRESSORS: Record<Encoding, (bytes: Buffer) => Buffer> = {
  br: (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }),
  gzip: (bytes) => gzipSync(bytes),
  deflate: (bytes) => deflateSync(bytes),
};

/** The encoding to use for an Accept-Encoding header: the client's highest q, then the server's order. */
export function preferredEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
    weights.set(name.trim() === 'x-gzip' ? 'gzip' : name.trim(), q ? Number(q[1]) : 1);
  }
  let best: Encoding | undefined;
  let bestWeight = 0;
  for (const encoding of ENCODINGS) {
    const weight = weights.get(encoding) ?? weights.get('*') ?? 0;
    if (weight > bestWeight) [best, bestWeight] = [encoding, weight];
  }
  return best;
}

/**
 * Pages a route sends again as the same Buffer (the sessions list keeps its serialized pages
 * until a session changes) are compressed once per encoding, not once per request: polling
 * clients all ask for the same first page, and compressing 47 KB costs more than sending it.
 */
const compressedPages = new WeakMap<Buffer, Partial<Record<Encoding, Buffer>>>();

/**
 * gzip, brotli or deflate for JSON replies when the client's Accept-Encoding asks (Python's
 * requests and httpx, Go's net/http and `curl --compressed` all do); clients that do not ask
 * get plain JSON, as before. Request bodies are not decompressed: no Veeam client sends them
 * compressed.
 */
export async function installCompression(app: FastifyInstance): Promise<void> {
  // Runs before the plugin's own onSend (route-level hooks come after the application's); the
  // plugin leaves a reply that already has a Content-Encoding alone.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!Buffer.isBuffer(payload) || payload.length < COMPRESSION_THRESHOLD_BYTES || reply.hasHeader('content-encoding')) return payload;
    if (!/json/i.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    const encoding = preferredEncoding(request.headers['accept-encoding']);
    if (!encoding) return payload;
    let cached = compressedPages.get(payload);
    if (!cached) compressedPages.set(payload, (cached = {}));
    const bytes = (cached[encoding] ??= COMPRESSORS[encoding](payload));
    const vary = reply.getHeader('vary');
    reply.header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
    reply.header('content-encoding', encoding);
    reply.header('content-length', bytes.length);
    return bytes;
  });
  await app.register(compress, {
    global: true,
    globalDecompression: false,
    threshold: COMPRESSION_THRESHOLD_BYTES,
    encodings: [...ENCODINGS],
  });
}
