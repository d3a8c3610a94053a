// Bundles the server into dist/main.js with esbuild (well under a second), so
// `npm start` runs plain JavaScript: no TypeScript loader in the serving process,
// which saves memory and start-up time. Dependencies stay in node_modules.
// The web console (console/) is built beside it into dist/console.
import { copyFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { buildConsole } from './build-console.mjs';

await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  // Split at dynamic imports, so rarely used heavy parts (the AWS SDK) load only when needed.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
// The hardened repositories' transport service is copied to hosts as one file, not bundled (src/hardened/install.ts).
await copyFile('src/hardened/transport-service.mjs', 'dist/transport-service.mjs');
await buildConsole();
