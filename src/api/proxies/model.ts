import type { Selectable } from 'kysely';
import type { ProxiesTable } from '../../store/schema.js';
import { renamedField } from '../../http/renamed-fields.js';

export type ProxyRow = Selectable<ProxiesTable>;

type Raw = Record<string, unknown>;

/** What a proxy is set to, stored with the 1.1 spellings. */
export interface ProxySettings {
  transportMode: 'auto' | 'directAccess' | 'virtualAppliance' | 'network';
  failoverToNetwork: boolean;
  hostToProxyEncryption: boolean;
  connectedDatastores: { autoSelect: boolean; datastores: { datastore: Raw; vmCount?: number }[] };
  maxTaskCount: number;
}

/** Veeam's defaults for a new VMware proxy (its console's: automatic mode, failover on, 2 tasks). */
export const DEFAULT_PROXY_SETTINGS: ProxySettings = {
  transportMode: 'auto',
  failoverToNetwork: true,
  hostToProxyEncryption: false,
  connectedDatastores: { autoSelect: true, datastores: [] },
  maxTaskCount: 2,
};

export function storedSettings(row: ProxyRow): ProxySettings {
  return { ...DEFAULT_PROXY_SETTINGS, ...(JSON.parse(row.settings) as Partial<ProxySettings>) };
}

/** A transport mode in either spelling (1.1 `auto`, 1.3-rev1 `Auto`) as stored (1.1). */
function storedTransportMode(value: unknown): ProxySettings['transportMode'] | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return (value[0]!.toLowerCase() + value.slice(1)) as ProxySettings['transportMode'];
}

/**
 * The settings a spec, model or import spec asks for; what it leaves out keeps
 * the stored value (edit) or Veeam's default (add). 400 (from renamedField) when
 * the two spellings of autoSelect disagree.
 */
export function settingsFrom(server: Raw, editing?: ProxySettings): ProxySettings {
  const stored = editing ?? DEFAULT_PROXY_SETTINGS;
  const given = (server.connectedDatastores ?? undefined) as Raw | undefined;
  const autoSelect = given ? renamedField<boolean>(given, 'autoSelect', 'autoSelectEnabled', editing?.connectedDatastores.autoSelect) : undefined;
  const datastores = given?.datastores as ProxySettings['connectedDatastores']['datastores'] | undefined;
  const settings: ProxySettings = {
    transportMode: storedTransportMode(server.transportMode) ?? stored.transportMode,
    failoverToNetwork: (server.failoverToNetwork as boolean | undefined) ?? stored.failoverToNetwork,
    hostToProxyEncryption: (server.hostToProxyEncryption as boolean | undefined) ?? stored.hostToProxyEncryption,
    connectedDatastores: {
      autoSelect: autoSelect ?? (given ? true : stored.connectedDatastores.autoSelect),
      datastores: datastores ?? (given ? [] : stored.connectedDatastores.datastores),
    },
    maxTaskCount: (server.maxTaskCount as number | undefined) ?? stored.maxTaskCount,
  };
  return settings;
}

/** Datastores in both shapes: the 1.1 VmwareObjectModel fields plus 1.2's `platform`. */
function datastoresOut(list: ProxySettings['connectedDatastores']['datastores']) {
  // Stored as sent (1.3 clients say `VSphere`); built as `VMware`, and shaped per document.
  return list.map((d) => ({ ...d, datastore: { ...d.datastore, platform: 'VMware' } }));
}

/** The server settings in both spellings (1.1 autoSelect, 1.2 autoSelectEnabled). */
export function settingsOut(s: ProxySettings) {
  return {
    transportMode: s.transportMode,
    failoverToNetwork: s.failoverToNetwork,
    hostToProxyEncryption: s.hostToProxyEncryption,
    connectedDatastores: {
      autoSelect: s.connectedDatastores.autoSelect,
      autoSelectEnabled: s.connectedDatastores.autoSelect,
      datastores: datastoresOut(s.connectedDatastores.datastores),
    },
    maxTaskCount: s.maxTaskCount,
  };
}

/** ProxyModel (ViProxyModel) for every revision. */
export function proxyModel(row: ProxyRow) {
  return { id: row.id, name: row.name, description: row.description, type: row.type as 'ViProxy', server: { hostId: row.host_id, ...settingsOut(storedSettings(row)) } };
}

/** ProxyStateModel (1.3): a proxy is online when its managed server passed its last check. */
export function proxyStateModel(row: ProxyRow, online: boolean) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    hostId: row.host_id,
    hostName: row.name,
    isDisabled: false,
    isOnline: online,
    isOutOfDate: false,
  };
}
