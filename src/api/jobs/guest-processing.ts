import type { LogStatus } from '../../sessions/model.js';
import type { SnapshotPlan, VmTarget } from '../../mover/vsphere-backup.js';
import type { VsphereSession } from '../../vsphere/session.js';
import type { InventoryObject, JobSettings } from './settings.js';
import type { VsphereAccess } from './vsphere-access.js';

type Obj = Record<string, unknown>;

/** One log line of guest processing. */
export interface GuestNote {
  title: string;
  status: LogStatus;
  description: string;
}

/** A VM's snapshot plan and what is said about its guest processing. */
export interface VmGuestProcessing {
  plan: SnapshotPlan;
  note?: GuestNote;
}

/** Said once per run: Rampart has no guest agent, so indexing a guest's files cannot be done. */
export const FS_INDEXING_IGNORED = 'Guest file system indexing is not supported by Rampart; the setting is ignored';

const NO_GUEST_AGENT =
  'Rampart has no guest agent (no guest interaction proxy, no VIX/guest operations): the guest is quiesced through VMware Tools, ' +
  'which in Windows guests drives VSS, so the snapshot is application-consistent; transaction logs are neither truncated nor backed up, ' +
  'and no pre-freeze/post-thaw scripts run.';

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);
const objectOf = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);

/** What a VM's application settings (BackupApplicationSettingsModel) ask for that Rampart does not do. Enums in either document's case. */
export function unsupportedAppSettings(entry: Obj): string[] {
  const asked: string[] = [];
  if (lower(entry.transactionLogs) === 'process') asked.push('transaction log processing');
  const sql = objectOf(entry.sql);
  if (lower(sql?.logsProcessing) === 'truncate') asked.push('SQL Server transaction log truncation');
  if (lower(sql?.logsProcessing) === 'backup') asked.push('SQL Server transaction log backup');
  const oracle = objectOf(entry.oracle);
  if (oracle && lower(oracle.archiveLogs) !== undefined && lower(oracle.archiveLogs) !== 'preserve') asked.push('Oracle archived log deletion');
  if (oracle?.backupLogs === true) asked.push('Oracle archived log backup');
  const postgres = objectOf(entry.postgreSQL);
  if (postgres?.backupLogs === true) asked.push('PostgreSQL WAL backup');
  const exclusions = objectOf(entry.exclusions);
  if (exclusions && lower(exclusions.exclusionPolicy) !== undefined && lower(exclusions.exclusionPolicy) !== 'disabled') asked.push('guest file exclusions');
  const scripts = objectOf(entry.scripts);
  if (scripts && lower(scripts.scriptProcessingMode) !== undefined && lower(scripts.scriptProcessingMode) !== 'disableexec') asked.push('pre-freeze/post-thaw scripts');
  if (entry.usePersistentGuestAgent === true) asked.push('the persistent guest agent');
  return asked;
}

/**
 * The job's guest processing for the VMs of one vCenter: VMware Tools quiescence
 * (`storage.advancedSettings.vSphere.enableVMWareToolsQuiescence`) and
 * application-aware processing (`guestProcessing.appAwareProcessing`), which
 * without a guest agent is VMware Tools quiescence too. A VM's own entry in
 * `appSettings` wins over an entry for a container holding it; `vss` decides
 * whether a refused quiesced snapshot fails the VM (`requireSuccess`, Veeam's
 * default) or falls back to a crash-consistent one (`ignoreFailures`), or turns
 * application processing off for that VM (`disabled`).
 */
export async function guestProcessingFor(settings: JobSettings, vsphere: VsphereAccess, session: VsphereSession, hostName: string): Promise<(vm: VmTarget) => VmGuestProcessing> {
  const toolsQuiescence = objectOf(settings.storage.advancedSettings?.vSphere)?.enableVMWareToolsQuiescence === true;
  const app = objectOf(settings.guestProcessing.appAwareProcessing);
  const appAware = app?.isEnabled === true;
  const entries = appAware && Array.isArray(app.appSettings) ? (app.appSettings as unknown[]).map(objectOf).filter((e): e is Obj => e !== undefined) : [];
  // Container entries cover the VMs below them: resolved once per vCenter, as the includes are.
  const covered = new Map<Obj, Set<string>>();
  for (const entry of entries) {
    const object = objectOf(entry.vmObject) as Partial<InventoryObject> | undefined;
    if (!object?.type || object.type === 'VirtualMachine' || object.hostName?.toLowerCase() !== hostName.toLowerCase()) continue;
    const vms = await vsphere.vmsOf(session, object as InventoryObject).catch(() => []);
    covered.set(entry, new Set(vms.map((v) => v.moref)));
  }
  const entryFor = (vm: VmTarget): Obj | undefined =>
    entries.find((e) => {
      const o = objectOf(e.vmObject);
      return o?.type === 'VirtualMachine' && (o.objectId ? o.objectId === vm.moref : o.name === vm.name);
    }) ?? entries.find((e) => covered.get(e)?.has(vm.moref));

  return (vm) => {
    if (!appAware) return { plan: { quiesce: toolsQuiescence, required: false } };
    const entry = entryFor(vm);
    const vss = lower(entry?.vss) ?? 'requiresuccess';
    if (vss === 'disabled') return { plan: { quiesce: toolsQuiescence, required: false } };
    const asked = entry ? unsupportedAppSettings(entry) : [];
    const note: GuestNote =
      asked.length > 0
        ? {
            title: `Application-aware processing of ${vm.name}: ${asked.join(', ')} ${asked.length === 1 ? 'is' : 'are'} not supported by Rampart; the setting${asked.length === 1 ? ' is' : 's are'} ignored`,
            status: 'Warning',
            description: NO_GUEST_AGENT,
          }
        : { title: `Application-aware processing of ${vm.name} through VMware Tools quiescence`, status: 'Succeeded', description: NO_GUEST_AGENT };
    return { plan: { quiesce: true, required: vss === 'requiresuccess' }, note };
  };
}
