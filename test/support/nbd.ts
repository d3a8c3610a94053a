// Helpers for the NBD tests: temporary folders, a random disk image on file, and the real
// clients (nbdinfo, nbdcopy, qemu-img, qemu-io) run as child processes, never in-process, so
// the server under test is free to answer them.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BlockSource } from '../../src/nbd/block-source.js';

export const exec = promisify(execFile);

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `rampart-nbd-${prefix}-`));
}

/** A disk image of random bytes (with an odd tail, so nothing relies on aligned sizes). */
export async function randomImage(dir: string, size: number, name = 'source.img'): Promise<{ path: string; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return { path: file, bytes };
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

export async function nbdinfoJson(uri: string): Promise<{ size: number; readOnly: boolean; canFlush: boolean }> {
  const { stdout } = await exec('nbdinfo', ['--json', uri]);
  const info = JSON.parse(stdout);
  const exp = info.exports[0];
  return { size: exp['export-size'], readOnly: exp.is_read_only, canFlush: exp.can_flush };
}

/** Reads `length` bytes at `offset` with qemu-io (a real NBD client), hex-dumped back into a Buffer. */
export async function qemuRead(uri: string, offset: number, length: number): Promise<Buffer> {
  const { stdout } = await qemuIo(['-r', '-f', 'raw', '-c', `read -v ${offset} ${length}`, uri]);
  const bytes: number[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^[0-9a-f]{8}:\s+((?:[0-9a-f]{2}\s)+)/.exec(line);
    if (m) for (const hex of m[1]!.trim().split(/\s+/)) bytes.push(parseInt(hex, 16));
  }
  if (/error|failed/i.test(stdout)) throw new Error(stdout.trim());
  return Buffer.from(bytes);
}

/** Writes bytes at `offset` through qemu-io (a pattern byte repeated, since qemu-io takes no data). */
export async function qemuWritePattern(uri: string, offset: number, length: number, pattern: number): Promise<void> {
  const { stdout } = await qemuIo(['-f', 'raw', '-c', `write -P ${pattern} ${offset} ${length}`, '-c', 'flush', uri]);
  if (/error|failed/i.test(stdout)) throw new Error(stdout.trim());
}

/** qemu-io prints its errors on stdout and exits 1: surface them in the error message. */
function qemuIo(args: string[]): Promise<{ stdout: string }> {
  return exec('qemu-io', args, { maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`qemu-io failed: ${err.stdout ?? ''} ${err.stderr ?? ''}`.trim());
  });
}

/** A source that fails every read touching [badFrom, badTo): what a corrupt chunk looks like to the server. */
export function failingSource(inner: BlockSource, badFrom: number, badTo: number): BlockSource & { failures: number } {
  const source = {
    size: inner.size,
    failures: 0,
    async read(offset: number, length: number, signal?: AbortSignal) {
      if (offset < badTo && offset + length > badFrom) {
        source.failures++;
        throw new Error(`chunk at ${badFrom} failed its digest check`);
      }
      return inner.read(offset, length, signal);
    },
  };
  return source;
}
