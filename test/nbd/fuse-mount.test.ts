import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileBlockSource } from '../../src/nbd/block-source.js';
import { RAMPART_FUSE_FSNAME, mountExportAsFile, rampartMountsUnder, unmountStaleMounts } from '../../src/nbd/fuse-mount.js';
import { NbdServer } from '../../src/nbd/server.js';
import { exec, randomImage, tempDir } from '../support/nbd.js';

const SIZE = 3 * 1024 * 1024 + 512;

describe('nbdfuse mounts', () => {
  let dir: string;
  let image: { path: string; bytes: Buffer };
  let source: Awaited<ReturnType<typeof fileBlockSource>>;
  let server: NbdServer;

  beforeAll(async () => {
    dir = await tempDir('fuse');
    image = await randomImage(dir, SIZE);
    source = await fileBlockSource(image.path);
    server = new NbdServer();
    await server.listen({ socketPath: path.join(dir, 'nbd.sock') });
    server.addExport({ name: 'disk', device: source });
  });

  afterAll(async () => {
    await unmountStaleMounts(dir);
    await server?.close();
    await source?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the export as a file of the right size and leaves nothing behind on unmount', async () => {
    const mountPoint = path.join(dir, 'mounts', 'one disk'); // mountinfo escapes the space
    const mount = await mountExportAsFile({ uri: server.uri('disk'), mountPoint, fileName: 'disk-flat.vmdk', size: SIZE, readOnly: true });
    expect(mount.file).toBe(path.join(mountPoint, 'disk-flat.vmdk'));
    expect((await stat(mount.file)).size).toBe(SIZE);
    expect(await rampartMountsUnder(dir)).toEqual([mountPoint]);
    const copy = path.join(dir, 'through-fuse.img');
    await exec('cp', [mount.file, copy]);
    expect((await readFile(copy)).equals(image.bytes)).toBe(true);
    await mount.unmount();
    expect(await rampartMountsUnder(dir)).toEqual([]);
    expect(existsSync(mountPoint)).toBe(false);
  });

  it('unmounts even while another process holds the file open (lazily)', async () => {
    const mountPoint = path.join(dir, 'mounts', 'busy');
    const mount = await mountExportAsFile({ uri: server.uri('disk'), mountPoint, size: SIZE, readOnly: true });
    const holder = spawn('bash', ['-c', 'exec 3<"$1"; echo open; sleep 60', 'holder', mount.file], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => holder.stdout!.once('data', resolve));
      await mount.unmount();
      expect(await rampartMountsUnder(dir)).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  it('fails cleanly for an export that does not exist or a wrong size', async () => {
    const mountPoint = path.join(dir, 'mounts', 'bad');
    await expect(mountExportAsFile({ uri: server.uri('nope'), mountPoint, size: SIZE })).rejects.toThrow(/nbdfuse exited/);
    await expect(mountExportAsFile({ uri: server.uri('disk'), mountPoint, size: SIZE + 1 })).rejects.toThrow(/expected/);
    expect(await rampartMountsUnder(dir)).toEqual([]);
    expect(existsSync(mountPoint)).toBe(false);
  });

  it('finds and lazily unmounts stale Rampart mounts (their server gone), and no others', async () => {
    const staleDir = path.join(dir, 'stale', 'ir-1');
    await mkdir(staleDir, { recursive: true });
    // Made the way a crashed Rampart would leave it: nbdfuse still running, its server gone.
    const orphan = new NbdServer();
    await orphan.listen({ socketPath: path.join(dir, 'orphan.sock') });
    orphan.addExport({ name: 'disk', device: source });
    const child = spawn('nbdfuse', ['-o', `fsname=${RAMPART_FUSE_FSNAME}`, path.join(staleDir, 'disk'), orphan.uri('disk')], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await vi.waitFor(async () => expect((await stat(path.join(staleDir, 'disk'))).size).toBe(SIZE), { timeout: 10_000, interval: 50 });
      await orphan.close();
      // A healthy mount elsewhere is not touched.
      const healthy = await mountExportAsFile({ uri: server.uri('disk'), mountPoint: path.join(dir, 'elsewhere'), size: SIZE, readOnly: true });
      try {
        expect(await rampartMountsUnder(path.join(dir, 'stale'))).toEqual([staleDir]);
        expect(await unmountStaleMounts(path.join(dir, 'stale'))).toEqual([staleDir]);
        expect(await rampartMountsUnder(dir)).toEqual([healthy.mountPoint]);
        await exited; // the lazy unmount ends nbdfuse too
      } finally {
        await healthy.unmount();
      }
    } finally {
      if (child.exitCode === null) child.kill();
      await orphan.close();
    }
    expect(await rampartMountsUnder(dir)).toEqual([]);
  });
});
