import compress from '@fastify/compress';
import type { FastifyInstance } from 'fastify';

/**
 * Replies smaller than this go out as they are: one that fits a single TCP segment (~1.4 KB
 * of payload) arrives no sooner compressed, and errors, single objects and short pages are
 * all below it. Lists of sessions, repositories or credentials are well above it.
 */
export const COMPRESSION_THRESHOLD_BYTES = 1400;

/**
 * gzip, brotli or deflate for JSON replies when the client's Accept-Encoding asks (Python's
 * requests and httpx, Go's net/http and `curl --compressed` all do); clients that do not ask
 * get plain JSON, as before. Brotli runs at the plugin's quality 4 (its maximum, 11, is far
 * slower for little gain). Request bodies are not decompressed: no Veeam client sends them compressed.
 */
export async function installCompression(app: FastifyInstance): Promise<void> {
  await app.register(compress, {
    global: true,
    globalDecompression: false,
    threshold: COMPRESSION_THRESHOLD_BYTES,
    encodings: ['br', 'gzip', 'deflate'],
  });
}
