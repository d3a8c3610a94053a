import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, beginRestorePoint, ChunkStoreError, collectGarbage, deleteRestorePoint, openChunkStore, type ChunkStore } from '../../src/chunkstore/index.js';
import { hardenedBackend } from '../../src/chunkstore/hardened-backend.js';
import { installHardenedService, type HardenedInstallResult } from '../../src/hardened/install.js';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';
import { probeSshHostKey } from '../../src/probe/ssh-probe.js';
import { freePort } from '../support/peers.js';
import { haveSshd, isRoot, startSshd, type Sshd } from '../support/sshd.js';
import { bufferSource, diskImage, KiB, readWholeDisk } from './helpers.js';

// A short "day count" so the period passes inside the test: 5 seconds.
const PERIOD_MS = 5000;
const DAYS = PERIOD_MS / 86_400_000;
const chain = { backupId: 'b1', objectId: 'vm1' };

// The immutable attribute needs root and a file system that has it (ext4 here).
describe.skipIf(!isRoot || !haveSshd)('hardened Linux repository: transport service installed with single-use credentials', () => {
  let sshd: Sshd;
  let folder: string;
  let installDir: string;
  let installed: HardenedInstallResult;
  let store: ChunkStore;
  const image = diskImage(512 * KiB, 64 * KiB, 5);
  const changed = Buffer.from(image);
  for (let i = 0; i < 64 * KiB; i++) changed[i] = (i * 31 + 1) & 0xff;

  beforeAll(async () => {
    sshd = await startSshd({ allowRootWithKey: true });
    folder = await mkdtemp(path.join(tmpdir(), 'rampart-hardened-'));
    installDir = await mkdtemp(path.join(tmpdir(), 'rampart-transport-'));
    const hostKey = await probeSshHostKey('127.0.0.1', sshd.port, { timeoutMs: 5000 });
    installed = await installHardenedService({
      host: '127.0.0.1',
      sshPort: sshd.port,
      hostKeyFingerprint: hostKey.fingerprint,
      login: { username: 'root', privateKey: sshd.userKey },
      servicePort: await freePort(),
      folder,
      installDir,
    });
    store = await openChunkStore(hardenedBackend(installed, { immutableDays: DAYS }));
  }, 60_000);

  afterAll(async () => {
    await store?.backend.close();
    // The supervisor runs in its own session: its process group is the loop and the service.
    if (installed?.supervision.kind === 'supervisor') {
      try {
        process.kill(-installed.supervision.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    if (folder) {
      execFileSync('chattr', ['-R', '-i', folder]);
      await rm(folder, { recursive: true, force: true });
    }
    if (installDir) await rm(installDir, { recursive: true, force: true });
    await sshd?.stop();
  });

  const write = async (restorePointId: string, data: Buffer, base?: string) => {
    const w = await beginRestorePoint(store, { ...chain, restorePointId, compressionLevel: 3, ...(base ? { base: { ...chain, restorePointId: base } } : {}) });
    await w.writeDisk({ key: 'd0', name: 'disk0', chunkSize: 64 * KiB }, bufferSource(data));
    await w.commit();
  };
  const onHost = (key: string) => path.join(folder, key);
  const untilOnHost = async (key: string) => Number(await readFile(`${onHost(key)}.rampart-until`, 'utf8'));

  it('keeps no login, runs supervised, and answers only the pinned client certificate', async () => {
    expect(installed.supervision.kind).toBe('supervisor');
    expect(JSON.stringify(installed)).not.toContain(sshd.userKey.split('\n')[1]);
    expect((await readFile(path.join(installDir, 'config.json'), 'utf8')).includes('PRIVATE KEY')).toBe(true);
    const stranger = await generateSelfSignedCertificate({ commonName: 'stranger', dnsNames: ['stranger'], ipAddresses: [], validBy: new Date(Date.now() + 86_400_000) });
    const other = hardenedBackend(
      { ...installed, clientCertificatePem: stranger.certificatePem, clientPrivateKeyPem: stranger.privateKeyPem },
      { immutableDays: 1, timeoutMs: 5000 },
    );
    await expect(other.head('rampart/config.json')).rejects.toThrow();
    await other.close();
    // Rampart pins the service's certificate: another one (a host impersonating it) is refused before any request.
    const impostor = hardenedBackend({ ...installed, serverCertificatePem: stranger.certificatePem }, { immutableDays: 1, timeoutMs: 5000 });
    await expect(impostor.head('rampart/config.json')).rejects.toThrow();
    await impostor.close();
    const own = hardenedBackend(installed, { immutableDays: 1 });
    const capacity = await own.capacity();
    await own.close();
    expect(capacity.capacity).toBeGreaterThan(capacity.available);
    expect(capacity.available).toBeGreaterThan(0);
  });

  it('is restarted by its supervisor when it dies', async () => {
    if (installed.supervision.kind !== 'supervisor') return;
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(installed.supervision.pid)])
      .toString()
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(children.length).toBe(1);
    process.kill(children[0]!, 'SIGKILL');
    const backend = hardenedBackend(installed, { immutableDays: 1, timeoutMs: 2000 });
    let answered = false;
    for (let i = 0; i < 50 && !answered; i++) {
      await new Promise((r) => setTimeout(r, 200));
      answered = await backend.capacity().then(
        () => true,
        () => false,
      );
    }
    await backend.close();
    expect(answered).toBe(true);
    const now = execFileSync('ps', ['-o', 'pid=', '--ppid', String(installed.supervision.pid)])
      .toString()
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(now[0]).not.toBe(children[0]);
  });

  it('makes a restore point immutable: refused through Rampart with the date, refused by the kernel to root, removed by retention after expiry', async () => {
    await write('rp1', image);
    expect((await readWholeDisk(store, { ...chain, restorePointId: 'rp1' }, 'd0')).equals(image)).toBe(true);
    const manifest = 'rampart/backups/b1/vm1/rp1/manifest.json';
    expect(execFileSync('lsattr', ['-d', onHost(manifest)]).toString()).toMatch(/^\S*i\S*\s/);
    const until = await untilOnHost(manifest);
    expect(until).toBeGreaterThan(Date.now());

    // Through Rampart: refused, saying until when.
    const refused = await deleteRestorePoint(store, { ...chain, restorePointId: 'rp1' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChunkStoreError);
    expect((refused as ChunkStoreError).kind).toBe('Immutable');
    expect((refused as ChunkStoreError).message).toContain(`until ${new Date(until).toISOString()}`);

    // The service itself refuses a rewrite, whoever holds the client certificate.
    await expect(store.backend.put(manifest, Buffer.from('ransom'))).rejects.toMatchObject({ kind: 'Immutable' });
    // As the host's root without clearing the flag: the kernel refuses delete and overwrite.
    expect(() => execFileSync('rm', ['-f', onHost(manifest)], { stdio: 'pipe' })).toThrow(/Operation not permitted/);
    await expect(writeFile(onHost(manifest), 'ransom')).rejects.toMatchObject({ code: 'EPERM' });
    expect(() => execFileSync('rm', ['-f', `${onHost(manifest)}.rampart-until`], { stdio: 'pipe' })).toThrow(/Operation not permitted/);

    // A newer restore point reusing rp1's chunks extends their expiry (one batch call).
    await new Promise((r) => setTimeout(r, 1500));
    await write('rp2', changed, 'rp1');
    const rp2Until = await untilOnHost('rampart/backups/b1/vm1/rp2/manifest.json');
    const index = 'rampart/backups/b1/vm1/rp1/disk-d0.fidx';
    expect(await untilOnHost(index)).toBeLessThan(rp2Until);
    const chunks: string[] = [];
    for await (const b of store.backend.list('rampart/chunks/')) chunks.push(b.key);
    const lasting = [];
    for (const k of chunks) if ((await untilOnHost(k)) >= rp2Until - 1000) lasting.push(k);
    expect(lasting.length).toBeGreaterThanOrEqual(chunks.length - 1);

    // Rampart's retention keeps rp1 until its date, then removes it.
    expect((await applyRetention(store, chain, { keepRestorePoints: 1 })).protected.map((p) => p.restorePointId)).toEqual(['rp1']);
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 200)));
    expect((await applyRetention(store, chain, { keepRestorePoints: 1 })).deleted.map((p) => p.restorePointId)).toEqual(['rp1']);
    await expect(readFile(onHost(manifest))).rejects.toMatchObject({ code: 'ENOENT' });
    await collectGarbage(store, { graceMs: 0 });
    expect((await readWholeDisk(store, { ...chain, restorePointId: 'rp2' }, 'd0')).equals(changed)).toBe(true);
    await expect(deleteRestorePoint(store, { ...chain, restorePointId: 'rp2' })).rejects.toMatchObject({ kind: 'Immutable' });
  }, 60_000);
});
