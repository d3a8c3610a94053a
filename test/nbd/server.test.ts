import { rm, readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferBlockSource, fileBlockSource } from '../../src/nbd/block-source.js';
import { NbdServer } from '../../src/nbd/server.js';
import { exec, failingSource, nbdinfoJson, qemuRead, randomImage, tempDir } from '../support/nbd.js';

const SIZE = 8 * 1024 * 1024 + 1536;

describe('NBD server with real clients', () => {
  let dir: string;
  let image: { path: string; bytes: Buffer };
  let source: Awaited<ReturnType<typeof fileBlockSource>>;
  let server: NbdServer;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = await tempDir('server');
    image = await randomImage(dir, SIZE);
    source = await fileBlockSource(image.path);
    server = new NbdServer({ log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }) });
    await server.listen({ socketPath: path.join(dir, 'nbd.sock'), port: 0 });
    server.addExport({ name: 'disk', device: source, description: 'restore point disk' });
  });

  afterAll(async () => {
    await server?.close();
    await source?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('nbdinfo sees the size and the read-only flag', async () => {
    const info = await nbdinfoJson(server.uri('disk'));
    expect(info).toEqual({ size: SIZE, readOnly: true, canFlush: false });
  });

  it('nbdcopy copies exactly the source bytes, over the Unix socket and over loopback TCP', async () => {
    const out = path.join(dir, 'copy.img');
    await exec('nbdcopy', [server.uri('disk'), out]);
    expect((await readFile(out)).equals(image.bytes)).toBe(true);
    const { port } = server.address;
    await exec('nbdcopy', [`nbd://127.0.0.1:${port}/disk`, out]);
    expect((await readFile(out)).equals(image.bytes)).toBe(true);
  });

  it('qemu-img converts the export to qcow2 and it compares identical to the source', async () => {
    const qcow = path.join(dir, 'disk.qcow2');
    await exec('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', server.uri('disk'), qcow]);
    const { stdout } = await exec('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', qcow, image.path]);
    expect(stdout).toContain('Images are identical');
  });

  it('serves several clients at once', async () => {
    const outs = [0, 1, 2].map((i) => path.join(dir, `parallel-${i}.img`));
    await Promise.all(outs.map((out) => exec('nbdcopy', ['--connections=2', server.uri('disk'), out])));
    for (const out of outs) expect((await readFile(out)).equals(image.bytes)).toBe(true);
  });

  it('lists listed exports only, and refuses unknown names', async () => {
    server.addExport({ name: 'secret-token', device: bufferBlockSource(Buffer.alloc(4096)), listed: false });
    try {
      const { stdout } = await exec('nbdinfo', ['--list', '--json', server.uri('disk')]);
      const names = JSON.parse(stdout).exports.map((e: { 'export-name': string }) => e['export-name']);
      expect(names).toEqual(['disk']);
      await expect(exec('nbdinfo', [server.uri('no-such-disk')])).rejects.toMatchObject({ stderr: expect.stringMatching(/export/i) });
      expect((await nbdinfoJson(server.uri('secret-token'))).size).toBe(4096);
    } finally {
      await server.removeExport('secret-token');
    }
  });

  it('answers a failing source read with EIO and keeps serving', async () => {
    const bad = failingSource(bufferBlockSource(image.bytes), 4 * 1024 * 1024, 4 * 1024 * 1024 + 1);
    server.addExport({ name: 'corrupt', device: bad });
    try {
      const failed = await exec('nbdcopy', [server.uri('corrupt'), path.join(dir, 'corrupt.img')]).then(
        () => undefined,
        (err: { stderr: string }) => err.stderr,
      );
      expect(failed).toMatch(/Input\/output error/);
      expect(bad.failures).toBeGreaterThan(0);
      // The reason is in the log, with the export and the offset.
      const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'NBD request failed');
      expect(logged).toMatchObject({ export: 'corrupt', err: expect.stringContaining('failed its digest check') });
      // The same connection kind still reads the healthy parts, and the other export is untouched.
      expect((await qemuRead(server.uri('corrupt'), 0, 4096)).equals(image.bytes.subarray(0, 4096))).toBe(true);
      await expect(qemuRead(server.uri('corrupt'), 4 * 1024 * 1024, 512)).rejects.toThrow(/Input\/output error/);
      expect((await nbdinfoJson(server.uri('disk'))).size).toBe(SIZE);
    } finally {
      await server.removeExport('corrupt');
    }
  });

  it('refuses to listen beyond loopback without TLS', async () => {
    const other = new NbdServer();
    await expect(other.listen({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/TLS/);
    await other.close();
  });
});
