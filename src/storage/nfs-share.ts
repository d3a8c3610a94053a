/**
 * The add/edit/rescan checks of an Nfs repository, through Rampart's own
 * NFSv3 client: the export is really mounted, the folder created if missing,
 * a probe file written, read back and removed, and the file system measured
 * with FSSTAT.
 */
import { randomUUID } from 'node:crypto';
import { NfsExport, parseNfsSharePath } from './nfs/export.js';
import { StorageCheckError, type StorageFigures } from './figures.js';
import type { StepRunner } from './steps.js';
import type { RpcCredentials } from './nfs/rpc.js';

export interface NfsCheckOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** False for a sealed extent or a measurement: no folder creation, no probe writes. */
  write?: boolean;
  /** AUTH_SYS identity (root when absent). */
  credentials?: RpcCredentials | undefined;
}

const why = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');

async function mount(sharePath: string, options: NfsCheckOptions, createFolder: boolean): Promise<NfsExport> {
  if (!parseNfsSharePath(sharePath)) throw new StorageCheckError(`The share path "${sharePath}" is not an NFS export such as server:/export/folder.`);
  try {
    return await NfsExport.open(sharePath, {
      timeoutMs: options.timeoutMs,
      createFolder,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    options.signal?.throwIfAborted();
    throw new StorageCheckError(`Cannot mount the NFS export ${sharePath}: ${why(err)}.`);
  }
}

/** Capacity and free space as the server reports them for this client (afree: what a quota or reserve leaves writable). */
async function measure(share: NfsExport, signal?: AbortSignal): Promise<StorageFigures> {
  const s = await share.fsstat(signal);
  return { capacityBytes: s.totalBytes, freeBytes: s.availableBytes, usedBytes: s.totalBytes - s.freeBytes, source: 'filesystem' };
}

export async function checkNfsShare(sharePath: string, steps: StepRunner, options: NfsCheckOptions): Promise<StorageFigures> {
  const write = options.write !== false;
  const share = await steps.step(
    `Mounting ${sharePath} over NFSv3${write ? ' (creating the folder if missing)' : ''}`,
    () => mount(sharePath, options, write),
    (s) => `Mounted export ${s.exportPath} from ${s.host}`,
  );
  try {
    if (write) {
      await steps.step(
        `Checking that ${sharePath} is writable`,
        async () => {
          const name = `.rampart-probe-${randomUUID()}`;
          const content = Buffer.from(randomUUID());
          let created = false;
          try {
            const fh = await share.client.create(share.root, name, true, `${sharePath}/${name}`, options.signal);
            created = true;
            await share.writeFile(fh, content, name, options.signal);
            const back = await share.readFile(fh, 0, content.length + 1, name, options.signal);
            if (!back.equals(content)) throw new StorageCheckError(`The probe file written to ${sharePath} read back different content: the storage is not reliable.`);
          } catch (err) {
            if (err instanceof StorageCheckError) throw err;
            throw new StorageCheckError(`Cannot write to the NFS export folder ${sharePath}: ${why(err)}.`);
          } finally {
            if (created) await share.client.remove(share.root, name, `${sharePath}/${name}`).catch(() => undefined);
          }
        },
        () => `Wrote, read back and deleted a probe file in ${sharePath}`,
      );
    }
    return await steps.step(
      `Measuring the file system of ${sharePath}`,
      () => measure(share, options.signal),
      (f) => `Capacity ${gb(f.capacityBytes)} GB, free ${gb(f.freeBytes)} GB`,
    );
  } finally {
    await share.close();
  }
}

/** Measurement only (refresher, rescan): mount, FSSTAT, unmount. */
export async function measureNfsShare(sharePath: string, options: NfsCheckOptions): Promise<StorageFigures> {
  const share = await mount(sharePath, options, false);
  try {
    return await measure(share, options.signal);
  } finally {
    await share.close();
  }
}

const gb = (bytes: number | null) => (bytes === null ? '?' : (bytes / 1024 ** 3).toFixed(2));
