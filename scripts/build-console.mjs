// Builds the web console (console/) into dist/console with esbuild: one JavaScript bundle,
// the stylesheet and index.html, each also written pre-compressed (.br, .gz) so the server
// sends compressed bytes without compressing on every request.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds into a temporary folder, then swaps it in, so a server never serves a half-written console. */
export async function buildConsole(outdir = path.join(root, 'dist', 'console')) {
  const temp = `${outdir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(temp, { recursive: true });
  await build({
    entryPoints: [path.join(root, 'console', 'src', 'main.tsx')],
    outfile: path.join(temp, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
  await copyFile(path.join(root, 'console', 'index.html'), path.join(temp, 'index.html'));
  await copyFile(path.join(root, 'console', 'styles.css'), path.join(temp, 'styles.css'));
  await copyFile(path.join(root, 'console', 'favicon.svg'), path.join(temp, 'favicon.svg'));
  for (const name of ['app.js', 'styles.css', 'index.html', 'favicon.svg']) {
    const content = await readFile(path.join(temp, name));
    await writeFile(path.join(temp, `${name}.br`), brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    await writeFile(path.join(temp, `${name}.gz`), gzipSync(content, { level: 9 }));
  }
  const old = `${outdir}.old-${process.pid}-${Date.now()}`;
  await rename(outdir, old).catch(() => undefined);
  await rename(temp, outdir);
  await rm(old, { recursive: true, force: true });
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildConsole();
