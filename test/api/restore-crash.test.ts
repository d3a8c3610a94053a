import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/server-process.js';
import { sessionWaiters, until } from '../support/sessions.js';
import { datastoreNames, prepareDisks, startVcsim, vmDiskHashes, type PreparedDisk, type Vcsim } from '../support/vcsim.js';
import { addLocalRepository, backupServerIdOf } from '../support/repositories.js';
import { addVcsimHost } from '../support/vsphere-lab.js';
import { backupJobSpec, instantRecoverySpec } from '../support/vsphere-specs.js';
import { rampartMountsUnder } from '../../src/nbd/index.js';

/**
 * kill -9 of the server while a VM runs from the backup (issue 15): Rampart runs as a child
 * process, is SIGKILLed with an instant recovery Mounted, so its nbdfuse mount is left behind
 * talking to an NBD export that died with the process; a new process starts on the same data
 * folder and must bring the mount back (or clean it) with no stale FUSE mount left.
 */

const MiB = 1024 * 1024;
const IR_11 = '/api/v1/restore/instantRecovery/vmware/vm';

// FUSE mounts need root and nbdfuse, as in restore.test.ts.
const canFuse = process.getuid?.() === 0 && existsSync('/usr/bin/nbdfuse');

let vcsim: Vcsim;
let disks: PreparedDisk[];

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** nbdfuse processes serving a mount point under `folder` (a leak if any outlive their mount). */
async function nbdfuseUnder(folder: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args=']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((l) => /\bnbdfuse\b/.test(l) && l.includes(folder));
}

beforeAll(async () => {
  if (!canFuse) return;
  vcsim = await startVcsim();
  disks = await prepareDisks(vcsim, { sizeBytes: 8 * MiB });
}, 120_000);

afterAll(async () => {
  await vcsim?.stop();
});

describe.skipIf(!canFuse)('kill -9 while a VM runs from the backup', () => {
  it('the stale FUSE mount is detached at start, the mount is Mounted again with the guest’s write, and unmount then leaves nothing', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'rampart-ir-crash-'));
    const dataDir = path.join(root, 'data');
    const irFolder = path.join(dataDir, 'ir');
    const env = { RAMPART_PROBE_TIMEOUT_MS: '5000' };
    let p = await startServerProcess(dataDir, env);
    try {
      let token = await p.adminToken();
      const { finished, logText, runSession } = sessionWaiters(() => ({ api: p.api, token }));
      await addVcsimHost({ api: p.api, token }, vcsim);
      const repositoryId = await addLocalRepository({ api: p.api, token }, await backupServerIdOf({ api: p.api, token }), path.join(root, 'repo'));
      const d = disks[0]!;
      const job = await p.api.post('/api/v1/jobs', { token, json: backupJobSpec('IR crash', d, repositoryId, { restorePoints: 3 }) });
      expect(job.status, job.text).toBe(201);
      await runSession('POST', `/api/v1/jobs/${job.body.id}/start`, { performActiveFull: false });
      const pointId = (await p.api.get(`/api/v1/objectRestorePoints?nameFilter=${encodeURIComponent(d.vm)}`, { token })).body.data[0].id as string;

      await runSession('POST', IR_11, instantRecoverySpec(pointId, 'ir-crash'));
      const mount = (await p.api.get(`${IR_11}?nameFilter=ir-crash`, { token })).body.data[0];
      expect(mount).toMatchObject({ state: 'Mounted', vmName: 'ir-crash' });
      const datastore = `rampart-ir-${mount.id.slice(0, 8)}`;

      // The guest writes through the mount (staging link → FUSE → NBD → redo file) and flushes.
      const vmFolder = path.join(irFolder, mount.id, datastore, 'ir-crash');
      const flat = path.join(
        vmFolder,
        (await readdir(vmFolder)).find((f) => f.endsWith('-flat.vmdk'))!,
      );
      const handle = await open(flat, 'r+');
      await handle.write(Buffer.alloc(8192, 0x5a), 0, 8192, 2 * MiB);
      await handle.sync();
      await handle.close();
      const changed = Buffer.from(d.content);
      changed.fill(0x5a, 2 * MiB, 2 * MiB + 8192);
      expect(await vmDiskHashes(vcsim, 'ir-crash')).toEqual([sha(changed)]);
      const mountsBefore = await rampartMountsUnder(path.join(irFolder, mount.id));
      expect(mountsBefore).toHaveLength(1);

      await p.kill();
      // What the crash leaves: the FUSE mount is still in the table, its NBD export gone with the process.
      expect(await rampartMountsUnder(irFolder)).toEqual(mountsBefore);
      // nbdfuse outlives the kill (the mount stays in the table) but its NBD server is gone: a read fails.
      const readAfterKill = await promisify(execFile)('timeout', [
        '20',
        'dd',
        `if=${path.join(mountsBefore[0]!, 'disk')}`,
        'of=/dev/null',
        'bs=4096',
        'count=1',
        'iflag=direct',
      ]).then(
        () => 'read',
        (err: { stderr?: string }) => err.stderr ?? 'failed',
      );
      expect(readAfterKill).toMatch(/connection abort|Input\/output error|Transport endpoint is not connected/);
      const redo = (await readdir(path.join(irFolder, 'redo'))).filter((f) => f.startsWith(mount.id));
      expect(redo).toHaveLength(1);

      p = await startServerProcess(dataDir, env);
      token = await p.adminToken();
      const resuming = await until(
        'the resume session to stop',
        async () => {
          const s = (await p.api.get(`/api/v1/sessions?nameFilter=${encodeURIComponent('Resuming instant recovery of ir-crash')}`, { token })).body.data;
          return s[0]?.state === 'Stopped' ? s[0] : undefined;
        },
        180_000,
      );
      expect(resuming.result.result, await logText(resuming.id)).toBe('Success');
      const after = (await p.api.get(`${IR_11}/${mount.id}`, { token })).body;
      expect(after, JSON.stringify(after)).toMatchObject({ state: 'Mounted', vmName: 'ir-crash' });
      expect(after.errorMessage).toBeUndefined();
      // Exactly one live FUSE mount again (the stale one detached, a fresh one on the same path), reading
      // the backup plus the write made before the kill, through the simulator's datastore file API.
      expect(await rampartMountsUnder(irFolder)).toEqual(mountsBefore);
      expect((await stat(path.join(mountsBefore[0]!, 'disk'))).size).toBe(d.content.length);
      expect(await vmDiskHashes(vcsim, 'ir-crash')).toEqual([sha(changed)]);
      expect(await datastoreNames(vcsim)).toContain(datastore);
      // The old nbdfuse (whose server was killed) is not left running beside the new one; it exits
      // on its own once its detached mount is released, so it gets a few seconds on busy cores.
      await until('one nbdfuse under the data folder', async () => ((await nbdfuseUnder(irFolder)).length === 1 ? true : undefined), 15_000).catch(async () => {
        expect(await nbdfuseUnder(irFolder)).toHaveLength(1);
      });

      const unmount = await p.api.post(`${IR_11}/${mount.id}/unmount`, { token });
      expect(unmount.status, unmount.text).toBe(200);
      const done = await finished(unmount.body.id);
      expect(done.result.result, await logText(unmount.body.id)).toBe('Success');
      expect((await p.api.get(`${IR_11}/${mount.id}`, { token })).status).toBe(404);
      expect(await vmDiskHashes(vcsim, 'ir-crash')).toBeUndefined();
      expect(await datastoreNames(vcsim)).not.toContain(datastore);
      expect(await rampartMountsUnder(irFolder)).toEqual([]);
      expect(existsSync(path.join(irFolder, mount.id))).toBe(false);
      expect((await readdir(path.join(irFolder, 'redo'))).filter((f) => f.startsWith(mount.id))).toEqual([]);
      await until('no nbdfuse under the data folder', async () => ((await nbdfuseUnder(irFolder)).length === 0 ? true : undefined), 15_000).catch(async () => {
        expect(await nbdfuseUnder(irFolder)).toEqual([]);
      });
    } finally {
      await p.kill();
      // A failed run must not leave a FUSE mount behind on the test machine.
      for (const m of await rampartMountsUnder(root)) await promisify(execFile)('fusermount3', ['-u', '-z', m]).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  }, 400_000);
});
