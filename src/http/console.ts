import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * The console may only load its own files and talk to this server: no inline script or
 * style, no framing, no other origin. Styles set through the CSSOM (element.style) are
 * not inline markup and stay allowed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** dist/console of the project this file belongs to, whether it runs bundled (dist/) or from the sources (src/http/). */
export function consoleFolder(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) return undefined;
    dir = path.dirname(dir);
  }
  const folder = path.join(dir, 'dist', 'console');
  return existsSync(path.join(folder, 'index.html')) ? folder : undefined;
}

/**
 * Serves the web console's built files at `/`. One route per file (no wildcard), so every
 * other path, /api ones above all, still reaches the API's own 404 in the error model.
 */
export async function installConsole(app: FastifyInstance, folder = consoleFolder()): Promise<void> {
  if (!folder) {
    app.log.warn('the web console is not built (npm run build): / answers 404');
    return;
  }
  await app.register(fastifyStatic, {
    root: folder,
    prefix: '/',
    wildcard: false,
    preCompressed: true,
    globIgnore: ['**/*.br', '**/*.gz'],
    decorateReply: false,
    // index.html is small and names the other files: always revalidated, so a new build shows at once.
    cacheControl: false,
    setHeaders: (reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cache-control', 'no-cache');
    },
  });
}
