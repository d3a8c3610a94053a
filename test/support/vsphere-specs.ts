import type { PreparedDisk } from './vcsim.js';

/**
 * Request bodies the job and restore tests send about the simulator's inventory (the
 * ViHost added as 127.0.0.1 by vsphere-lab.ts: host DC0_H0, folder vm, datastore LocalDS_0,
 * network "VM Network"), in the 1.1-rev0 spelling.
 */

const HOST = '127.0.0.1';
const at = (type: string, name: string) => ({ hostName: HOST, name, type });

/** `disk`'s VM as an inventory object (in a job's includes, an application setting...). */
export const vmObject = (disk: PreparedDisk) => ({ hostName: HOST, name: disk.vm, type: 'VirtualMachine', objectId: disk.vmRef.value });

/**
 * A Backup job over `disk`'s VM (or each of the disks' VMs) into `repositoryId`, run by hand, keeping `restorePoints`;
 * `storage` and `guestProcessing` parts are merged over the defaults (no guest processing).
 */
export function backupJobSpec(
  name: string,
  disk: PreparedDisk | PreparedDisk[],
  repositoryId: string,
  options: { description?: string; restorePoints: number; storage?: Record<string, unknown>; guestProcessing?: Record<string, unknown> },
) {
  return {
    name,
    description: options.description ?? '',
    type: 'Backup',
    isHighPriority: false,
    virtualMachines: { includes: [disk].flat().map(vmObject) },
    storage: {
      backupRepositoryId: repositoryId,
      backupProxies: { autoSelection: true },
      retentionPolicy: { type: 'RestorePoints', quantity: options.restorePoints },
      ...options.storage,
    },
    guestProcessing: { appAwareProcessing: { isEnabled: false }, guestFSIndexing: { isEnabled: false }, ...options.guestProcessing },
    schedule: { runAutomatically: false },
  };
}

/** Guest credentials that name none (the all-zero id), as some clients send them with guest processing off. */
export const NO_GUEST_CREDENTIALS = { guestCredentials: { credsId: '00000000-0000-0000-0000-000000000000', credsType: 'Standard' } };

/** An entire-VM restore of `pointId` to a new VM `vmName` on DC0_H0 / LocalDS_0 (thin), powered on; `extra` overrides. */
export const vmRestoreSpec = (pointId: string, vmName: string, extra: Record<string, unknown> = {}) => ({
  objectRestorePointId: pointId,
  type: 'Customized',
  powerUp: 'true',
  destinationHost: at('Host', 'DC0_H0'),
  folder: { vmName, folder: at('Folder', 'vm') },
  datastore: { datastore: at('Datastore', 'LocalDS_0'), diskType: 'Thin' },
  network: { network: at('Network', 'VM Network') },
  reason: 'test',
  ...extra,
});

/** An instant recovery of `pointId` as a running VM `vmName` on DC0_H0, no antivirus scan, BIOS UUID kept, redo beside the mount. */
export const instantRecoverySpec = (pointId: string, vmName: string) => ({
  objectRestorePointId: pointId,
  type: 'Customized',
  powerUp: true,
  secureRestore: { enableAntivirusScan: false },
  destination: {
    restoredVmName: vmName,
    destinationHost: at('Host', 'DC0_H0'),
    folder: at('Folder', 'vm'),
    resourcePool: at('ResourcePool', 'Resources'),
    biosUuidPolicy: 'preserve',
  },
  datastore: { redirectIsEnabled: false },
});
