import { rm, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bufferBlockSource, fileBlockSource } from '../../src/nbd/block-source.js';
import { NbdServer } from '../../src/nbd/server.js';
import { StreamReader } from '../../src/nbd/stream-reader.js';
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

  it('backs a qcow2 overlay made by qemu-img: writes land in the qcow2, reads fall through to the export', async () => {
    const overlay = path.join(dir, 'overlay.qcow2');
    await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', server.uri('disk'), '-F', 'raw', overlay]);
    await exec('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 65536 4096', overlay]);
    const flat = path.join(dir, 'overlay-flat.img');
    await exec('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
    const expected = Buffer.from(image.bytes);
    expected.fill(0x5a, 65536, 65536 + 4096);
    expect((await readFile(flat)).equals(expected)).toBe(true);
    expect((await readFile(image.path)).equals(image.bytes)).toBe(true);
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

  it('speaks the protocol byte for byte: EXPORT_NAME, EPERM on a read-only write, EINVAL past the end, DISC', async () => {
    const socket = net.connect(server.address.socketPath!);
    const reader = new StreamReader(socket);
    const greeting = await reader.read(18);
    expect(greeting.subarray(0, 16).toString()).toBe('NBDMAGICIHAVEOPT');
    expect(greeting.readUInt16BE(16)).toBe(3); // FIXED_NEWSTYLE | NO_ZEROES
    const name = Buffer.from('disk');
    const option = Buffer.alloc(4 + 16);
    option.writeUInt32BE(3, 0); // client flags: FIXED_NEWSTYLE | NO_ZEROES
    option.write('IHAVEOPT', 4);
    option.writeUInt32BE(1, 12); // NBD_OPT_EXPORT_NAME
    option.writeUInt32BE(name.length, 16);
    socket.write(Buffer.concat([option, name]));
    const answer = await reader.read(10);
    expect(Number(answer.readBigUInt64BE(0))).toBe(SIZE);
    expect(answer.readUInt16BE(8) & 2).toBe(2); // READ_ONLY

    const request = (type: number, handle: number, offset: number, length: number, payload?: Buffer) => {
      const head = Buffer.alloc(28);
      head.writeUInt32BE(0x25609513, 0);
      head.writeUInt16BE(type, 6);
      head.writeBigUInt64BE(BigInt(handle), 8);
      head.writeBigUInt64BE(BigInt(offset), 16);
      head.writeUInt32BE(length, 24);
      socket.write(payload ? Buffer.concat([head, payload]) : head);
    };
    const replyTo = async () => {
      const r = await reader.read(16);
      expect(r.readUInt32BE(0)).toBe(0x67446698);
      return { error: r.readUInt32BE(4), handle: Number(r.readBigUInt64BE(8)) };
    };
    request(1, 7, 0, 4, Buffer.from('evil'));
    expect(await replyTo()).toEqual({ error: 1, handle: 7 }); // EPERM
    request(0, 8, SIZE - 4, 8);
    expect(await replyTo()).toEqual({ error: 22, handle: 8 }); // EINVAL
    request(0, 9, SIZE - 4, 4);
    expect(await replyTo()).toEqual({ error: 0, handle: 9 });
    expect((await reader.read(4)).equals(image.bytes.subarray(SIZE - 4))).toBe(true);
    request(2, 10, 0, 0); // DISC
    await new Promise((resolve) => socket.once('close', resolve));
    expect((await readFile(image.path)).equals(image.bytes)).toBe(true);
  });

  it('drops clients that send garbage or leave mid-handshake, and keeps serving', async () => {
    // resume(): the greeting has to be consumed for the close to be seen.
    const closed = (socket: net.Socket) => new Promise((resolve) => socket.resume().once('close', resolve));
    const garbage = net.connect(server.address.socketPath!);
    garbage.on('error', () => {});
    garbage.write(randomBytes(200));
    await closed(garbage);
    const quitter = net.connect(server.address.socketPath!);
    quitter.on('error', () => {});
    await new Promise((resolve) => quitter.once('data', resolve));
    quitter.end(Buffer.from([0, 0, 0, 3, 0x49, 0x48])); // client flags, then half an option header
    await closed(quitter);
    // An option longer than any legal one ends the session rather than being buffered.
    const greedy = net.connect(server.address.socketPath!);
    greedy.on('error', () => {});
    const huge = Buffer.alloc(20);
    huge.writeUInt32BE(3, 0);
    huge.write('IHAVEOPT', 4);
    huge.writeUInt32BE(7, 12);
    huge.writeUInt32BE(0xffffffff, 16);
    greedy.write(huge);
    await closed(greedy);
    expect((await nbdinfoJson(server.uri('disk'))).size).toBe(SIZE);
  });

  it('refuses connections beyond maxConnections', async () => {
    const limited = new NbdServer({ maxConnections: 1 });
    await limited.listen({ socketPath: path.join(dir, 'limited.sock') });
    limited.addExport({ name: 'disk', device: source });
    const holder = net.connect(limited.address.socketPath!);
    try {
      await new Promise((resolve) => holder.once('data', resolve)); // greeted: it counts
      await expect(exec('nbdinfo', [limited.uri('disk')])).rejects.toThrow();
      holder.destroy();
      await vi.waitFor(async () => expect((await nbdinfoJson(limited.uri('disk'))).size).toBe(SIZE), { timeout: 5000, interval: 100 });
    } finally {
      holder.destroy();
      await limited.close();
    }
  });

  it('refuses to listen beyond loopback without TLS, and TLS-only exports without a certificate', async () => {
    const other = new NbdServer();
    await expect(other.listen({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/TLS/);
    expect(() => other.addExport({ name: 'x', device: source, requireTls: true })).toThrow(/certificate/);
    await other.close();
  });
});
