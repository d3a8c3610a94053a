import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatastoreFile, statDatastoreFile, writeDatastoreFile } from '../../src/vsphere/datastore-files.js';
import { VsphereError } from '../../src/vsphere/errors.js';
import { datastoreRangeReader } from '../../src/vsphere/range-reader.js';
import type { VsphereSession } from '../../src/vsphere/session.js';
import { createSnapshot, enableChangedBlockTracking, queryChangedDiskAreas, removeSnapshot, snapshotDisks } from '../../src/vsphere/snapshots.js';
import { captureVmConfig } from '../../src/vsphere/vm-config.js';
import { retrieveObject } from '../../src/vsphere/property-collector.js';
import { haveGo, prepareDisks, startVcsim, vcsimSession, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import type { Readable } from 'node:stream';

const MiB = 1024 * 1024;
const BLOCK = 64 * 1024;

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe.skipIf(!haveGo)('vSphere disks, snapshots and changed areas against vcsim with changed-block tracking', () => {
  let vcsim: Vcsim;
  let session: VsphereSession;
  let disks: PreparedDisk[];
  beforeAll(async () => {
    vcsim = await startVcsim({ cbt: true });
    disks = await prepareDisks(vcsim, { sizeBytes: 4 * MiB });
    session = await vcsimSession(vcsim);
  });
  afterAll(async () => {
    await session?.logout();
    await vcsim?.stop();
  });

  it('gives every VM disk its size and content, and the VM config says so', async () => {
    expect(disks.length).toBeGreaterThanOrEqual(4);
    const config = await captureVmConfig(session, disks[0]!.vmRef);
    const disk = config.disks.find((d) => d.key === disks[0]!.key)!;
    expect(disk.capacityInBytes).toBe(4 * MiB);
    expect(disk.flatPath).toBe(disk.descriptorPath.replace(/\.vmdk$/, '-flat.vmdk'));
    expect(config.datacenter).toBe('DC0');
    expect(config.changeTrackingEnabled).toBe(true);
    expect(config.name).toBe(disks[0]!.vm);
    expect(await statDatastoreFile(session, disks[0]!.file)).toBe(4 * MiB);
  });

  it('reads a disk with Range: the bytes equal those written', async () => {
    const disk = disks[1]!;
    const whole = await readDatastoreFile(session, disk.file);
    expect(
      createHash('sha256')
        .update(await collect(whole.stream))
        .digest('hex'),
    ).toBe(createHash('sha256').update(disk.content).digest('hex'));
    const range = { start: MiB + 17, end: 3 * MiB - 5 };
    const part = await readDatastoreFile(session, disk.file, range);
    expect(part.length).toBe(range.end - range.start);
    expect(part.fileSize).toBe(4 * MiB);
    expect((await collect(part.stream)).equals(disk.content.subarray(range.start, range.end))).toBe(true);
  });

  it('reads ranges in parallel straight into buffers over its own connections; a missing file is named, a closed reader refuses', async () => {
    const disk = disks[2]!;
    const reader = datastoreRangeReader(session, disk.file, 3);
    try {
      // Odd sizes and offsets, more reads than connections, all at once.
      const ranges = Array.from({ length: 9 }, (_, k) => ({ offset: k * 400_000 + 13, length: 300_000 + k * 7 }));
      const buffers = ranges.map((r) => Buffer.alloc(r.length, 0xee));
      await Promise.all(ranges.map((r, k) => reader.readInto(r.offset, buffers[k]!)));
      for (const [k, r] of ranges.entries()) expect(buffers[k]!.equals(disk.content.subarray(r.offset, r.offset + r.length))).toBe(true);
    } finally {
      reader.close();
    }
    await expect(reader.readInto(0, Buffer.alloc(10))).rejects.toThrow(/closed/);
    const missing = datastoreRangeReader(session, { ...disk.file, path: `${disk.file.path}.absent` });
    try {
      const err = await missing.readInto(0, Buffer.alloc(10)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VsphereError);
      expect((err as VsphereError).kind).toBe('FileNotFound');
    } finally {
      missing.close();
    }
  });

  it('names a missing file plainly', async () => {
    const err = await readDatastoreFile(session, { ...disks[0]!.file, path: 'nope/none-flat.vmdk' }).catch((e: unknown) => e);
    expect((err as VsphereError).kind).toBe('FileNotFound');
    expect((err as VsphereError).message).toContain('[LocalDS_0] nope/none-flat.vmdk does not exist');
  });

  it('creates and removes a snapshot; changed areas cover exactly the blocks written in between', async () => {
    const disk = disks[2]!;
    const first = await createSnapshot(session, disk.vmRef, { name: 'rampart-1' });
    const [atFirst] = (await snapshotDisks(session, first)).filter((d) => d.key === disk.key);
    expect(atFirst!.changeId).toMatch(/\/1$/);
    const tree = await retrieveObject(session, disk.vmRef, ['snapshot.currentSnapshot']);
    expect(tree?.props.has('snapshot.currentSnapshot')).toBe(true);

    // Every block holding data: the first half of the disk is random, the rest zeros.
    const all = await queryChangedDiskAreas(session, disk.vmRef, first, disk.key, '*', disk.capacityInBytes);
    expect(all).toEqual([{ start: 0, length: 2 * MiB }]);
    await removeSnapshot(session, first);

    // Change two blocks (one in the zero half), snapshot again, ask what changed since the first changeId.
    const changed = Buffer.from(disk.content);
    changed.fill(7, 5 * BLOCK, 5 * BLOCK + 10);
    changed.fill(9, 40 * BLOCK + 3, 41 * BLOCK);
    await writeDatastoreFile(session, disk.file, changed, changed.length);
    const second = await createSnapshot(session, disk.vmRef, { name: 'rampart-2' });
    const since = await queryChangedDiskAreas(session, disk.vmRef, second, disk.key, atFirst!.changeId!, disk.capacityInBytes);
    expect(since).toEqual([
      { start: 5 * BLOCK, length: BLOCK },
      { start: 40 * BLOCK, length: BLOCK },
    ]);
    await removeSnapshot(session, second);
    const after = await retrieveObject(session, disk.vmRef, ['snapshot.currentSnapshot']);
    expect(after?.props.has('snapshot.currentSnapshot')).toBe(false);
  });

  it('refuses an unknown changeId with the fault vSphere uses', async () => {
    const disk = disks[3]!;
    const snap = await createSnapshot(session, disk.vmRef, { name: 'rampart-x' });
    try {
      const err = await queryChangedDiskAreas(session, disk.vmRef, snap, disk.key, '52 nope/1', disk.capacityInBytes).catch((e: unknown) => e);
      expect((err as VsphereError).kind).toBe('InvalidArgument');
    } finally {
      await removeSnapshot(session, snap);
    }
  });
});

describe.skipIf(!haveGo)('changed areas against vcsim without changed-block tracking', () => {
  let vcsim: Vcsim;
  afterAll(async () => {
    await vcsim?.stop();
  });

  it('reports the method missing (tracking enabled or not) so callers fall back to a full read', async () => {
    vcsim = await startVcsim();
    const [disk] = await prepareDisks(vcsim, { sizeBytes: MiB });
    const session = await vcsimSession(vcsim);
    try {
      expect((await captureVmConfig(session, disk!.vmRef)).changeTrackingEnabled).toBe(false);
      await enableChangedBlockTracking(session, disk!.vmRef);
      expect((await captureVmConfig(session, disk!.vmRef)).changeTrackingEnabled).toBe(true);
      const snap = await createSnapshot(session, disk!.vmRef, { name: 'rampart-fallback' });
      expect(await queryChangedDiskAreas(session, disk!.vmRef, snap, disk!.key, '*', MiB)).toBeUndefined();
      await removeSnapshot(session, snap);
      const read = await readDatastoreFile(session, disk!.file);
      expect((await collect(read.stream)).equals(disk!.content)).toBe(true);
    } finally {
      await session.logout();
    }
  });
});
