import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bufferBlockSource, type BlockSource } from '../../src/nbd/block-source.js';
import { ExportPublisher } from '../../src/nbd/publish.js';
import { NbdServer } from '../../src/nbd/server.js';
import { exec, nbdinfoJson, randomImage, tempDir } from '../support/nbd.js';
import { writeSelfSignedCertificate } from '../support/tls.js';

const SIZE = 2 * 1024 * 1024;

/** A source that takes its time, so a copy is still running when the export expires. */
function slowSource(inner: BlockSource, delayMs: number): BlockSource {
  return {
    size: inner.size,
    read: (offset, length, signal) => new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => inner.read(offset, length, signal)),
  };
}

describe('published exports', () => {
  let dir: string;
  let image: { path: string; bytes: Buffer };
  let caDir: string;
  let server: NbdServer;
  let publisher: ExportPublisher;

  beforeAll(async () => {
    dir = await tempDir('publish');
    image = await randomImage(dir, SIZE);
    // The server certificate; the client trusts it as its CA (libnbd reads <dir>/ca-cert.pem).
    caDir = path.join(dir, 'client-ca');
    await mkdir(caDir);
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await writeSelfSignedCertificate(key, cert, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1', days: 1 });
    await exec('cp', [cert, path.join(caDir, 'ca-cert.pem')]);
    const context = tls.createSecureContext({ key: await readFile(key), cert: await readFile(cert) });
    server = new NbdServer({ tls: { secureContext: () => context } });
    await server.listen({ socketPath: path.join(dir, 'nbd.sock'), port: 0 });
    publisher = new ExportPublisher(server);
  });

  afterAll(async () => {
    await publisher?.closeAll();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes under an unguessable, unlisted name, read-only, copyable with qemu-img', async () => {
    const published = publisher.publish(bufferBlockSource(image.bytes), { ttlMs: 60_000, logLabel: 'restore point 1' });
    expect(published.name).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(published.expiresAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await nbdinfoJson(published.uri)).toMatchObject({ size: SIZE, readOnly: true });
    const { stdout } = await exec('nbdinfo', ['--list', '--json', published.uri]);
    expect(JSON.parse(stdout).exports).toEqual([]);
    await expect(exec('nbdinfo', [published.uri.replace(published.name, published.name.slice(0, -1))])).rejects.toThrow();
    const out = path.join(dir, 'export.qcow2');
    await exec('qemu-img', ['convert', '-O', 'qcow2', published.uri, out]);
    expect((await exec('qemu-img', ['compare', '-F', 'raw', out, image.path])).stdout).toContain('Images are identical');
    await publisher.unpublish(published.name);
    await expect(exec('nbdinfo', [published.uri])).rejects.toThrow();
  });

  it('expiry closes the export and cuts a copy in progress', async () => {
    const reasons: string[] = [];
    const published = publisher.publish(slowSource(bufferBlockSource(image.bytes), 150), {
      ttlMs: 1500,
      logLabel: 'restore point 2',
      onClosed: (reason) => reasons.push(reason),
    });
    expect((await nbdinfoJson(published.uri)).size).toBe(SIZE);
    const started = Date.now();
    // 2 MiB in 64 KiB requests, one at a time, at 150 ms each: about 5 s unless the export goes first.
    const copy = exec('nbdcopy', ['--connections=1', '--requests=1', '--request-size=65536', published.uri, path.join(dir, 'cut.img')]).then(
      () => 'finished',
      () => 'failed',
    );
    expect(await copy).toBe('failed');
    expect(Date.now() - started).toBeLessThan(4000);
    await vi.waitFor(() => expect(reasons).toEqual(['expired']));
    expect(publisher.isPublished(published.name)).toBe(false);
    expect(server.connectionCount(published.name)).toBe(0);
    await expect(exec('nbdinfo', [published.uri])).rejects.toThrow();
  });

  it('with requireTls, serves only over STARTTLS with the server certificate', async () => {
    const published = publisher.publish(bufferBlockSource(image.bytes), { ttlMs: 60_000, logLabel: 'restore point 3', requireTls: true });
    expect(published.uri).toMatch(/^nbds\+unix:/);
    const trusted = `${published.uri}&tls-certificates=${encodeURIComponent(caDir)}`;
    const { stdout } = await exec('nbdinfo', [trusted]);
    expect(stdout).toContain('with TLS');
    const out = path.join(dir, 'tls.img');
    await exec('nbdcopy', [trusted, out]);
    expect((await readFile(out)).equals(image.bytes)).toBe(true);
    // Over TCP too, where the certificate's name is checked.
    const { port } = server.address;
    await exec('nbdinfo', [`nbds://localhost:${port}/${published.name}?tls-certificates=${encodeURIComponent(caDir)}`]);
    // Plain text is refused, and so is a client that does not trust the certificate.
    await expect(exec('nbdinfo', [published.uri.replace('nbds+unix', 'nbd+unix')])).rejects.toMatchObject({ stderr: expect.stringMatching(/not supported|TLS/i) });
    const strangerCa = path.join(dir, 'stranger');
    await mkdir(strangerCa, { recursive: true });
    await writeSelfSignedCertificate(path.join(strangerCa, 'k.pem'), path.join(strangerCa, 'ca-cert.pem'), { cn: 'localhost', days: 1 });
    // (libnbd 1.14 checks the certificate on TCP only; over a Unix socket it encrypts without checking.)
    await expect(exec('nbdinfo', [`nbds://localhost:${port}/${published.name}?tls-certificates=${encodeURIComponent(strangerCa)}`])).rejects.toMatchObject({
      stderr: expect.stringMatching(/certificate verification/),
    });
    await publisher.unpublish(published.name);
  });
});
