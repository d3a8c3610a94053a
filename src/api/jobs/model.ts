import type { Selectable } from 'kysely';
import type { JobsTable } from '../../store/schema.js';
import { formatInstant } from '../../http/dates.js';
import { isRevisionAtLeast } from '../../http/api-version.js';
import type { InventoryObject, JobSettings } from './settings.js';
import { renameForRevision } from './wire.js';

export type JobRow = Selectable<JobsTable>;
type Obj = Record<string, unknown>;

export function storedSettings(row: JobRow): JobSettings {
  return JSON.parse(row.settings) as JobSettings;
}

const isRenamedRevision = (revision?: string) => isRevisionAtLeast(revision, '1.2-rev0');

/** 1.1: VmwareObjectSizeModel {inventoryObject, size}; 1.2: InventoryObjectModel {platform, …, size}. */
function objectOut(o: InventoryObject, revision?: string) {
  const { size, ...inventory } = o;
  if (isRenamedRevision(revision)) return { platform: 'VMware', ...inventory, ...(size ? { size } : {}) };
  return { inventoryObject: inventory, ...(size ? { size } : {}) };
}

/** 1.2's InventoryObjectModel requires `platform` wherever a job names a VM (vmObject). */
function withPlatform(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withPlatform);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'vmObject' && v && typeof v === 'object' ? { platform: 'VMware', ...(v as Obj) } : withPlatform(v)]));
}

function storageOut(storage: JobSettings['storage'], revision?: string): Obj {
  if (!isRenamedRevision(revision)) return storage;
  const advanced = storage.advancedSettings;
  let adjusted: Obj = storage;
  if (advanced) {
    const enc = advanced.storageData?.encryption;
    adjusted = {
      ...storage,
      advancedSettings: {
        ...advanced,
        backupModeType: advanced.backupModeType === 'Transofrm' ? 'Transform' : advanced.backupModeType,
        ...(advanced.storageData
          ? { storageData: { ...advanced.storageData, ...(enc ? { encryption: { ...enc, ...(enc.isEnabled ? { encryptionType: 'ByUserPassword' } : {}) } } : {}) } }
          : {}),
      },
    };
  }
  return renameForRevision(adjusted) as Obj;
}

/** JobModel (BackupJobModel) in the shape of the caller's revision. */
export function jobModel(row: JobRow, revision?: string) {
  const s = storedSettings(row);
  const renamed = isRenamedRevision(revision);
  const excludes = s.virtualMachines.excludes;
  const excludesOut = excludes
    ? { ...excludes, ...(Array.isArray(excludes.vms) ? { vms: (excludes.vms as InventoryObject[]).map((o) => objectOut(o, revision)) } : {}) }
    : undefined;
  const tree = {
    isHighPriority: s.isHighPriority,
    virtualMachines: { includes: s.virtualMachines.includes.map((o) => objectOut(o, revision)), ...(excludesOut ? { excludes: excludesOut } : {}) },
    storage: storageOut(s.storage, revision),
    guestProcessing: s.guestProcessing,
    schedule: s.schedule,
  };
  const body = renamed ? (withPlatform(renameForRevision({ ...tree, storage: tree.storage })) as Obj) : tree;
  return { id: row.id, name: row.name, description: row.description, type: row.type, isDisabled: row.is_disabled === 1, ...body };
}

/** EJobStatus: running while a session of it works, disabled, else inactive. */
export function jobStatus(row: JobRow, running: boolean): 'running' | 'inactive' | 'disabled' {
  if (running) return 'running';
  return row.is_disabled === 1 ? 'disabled' : 'inactive';
}

/** JobStateModel; absent optional fields are left out, never null. */
export function jobStateModel(row: JobRow, extra: { running: boolean; progressPercent: number; repositoryName?: string }) {
  const lastRun = formatInstant(row.last_run ?? undefined);
  const nextRun = row.is_disabled === 1 ? undefined : formatInstant(row.next_run ?? undefined);
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    description: row.description,
    status: jobStatus(row, extra.running),
    ...(lastRun ? { lastRun } : {}),
    lastResult: row.last_result,
    ...(nextRun ? { nextRun } : {}),
    workload: 'vm',
    repositoryId: row.repository_id,
    ...(extra.repositoryName !== undefined ? { repositoryName: extra.repositoryName } : {}),
    objectsCount: row.objects_count,
    ...(row.last_session_id ? { sessionId: row.last_session_id } : {}),
    // 1.3 fields (left out for earlier readers by src/revisions/replies/jobs.ts).
    highPriority: row.is_high_priority === 1,
    progressPercent: extra.progressPercent,
  };
}
