import type { CredentialsRow } from '../../credentials/service.js';
import type { CloudCredentialsRow } from '../../cloud-credentials/service.js';
import { nonEmpty } from '../section.js';

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a repository references, named the way an import collection names it. */
export type NamedReference =
  { kind: 'server'; name: string; role: string } | { kind: 'credentials'; name: string; tag: string } | { kind: 'cloud'; name: string; tag: string; type: string };

export function describeReference(ref: NamedReference): string {
  if (ref.kind === 'server') return `${ref.role} "${ref.name}"`;
  const tag = ref.tag ? ` (tag "${ref.tag}")` : '';
  return ref.kind === 'credentials' ? `credentials "${ref.name}"${tag}` : `${ref.type} cloud credentials "${ref.name}"${tag}`;
}

/** The servers and credentials of this server, looked up by what an import names. */
export interface Directory {
  servers: Map<string, string>;
  credentials: CredentialsRow[];
  cloud: CloudCredentialsRow[];
}

/** The id a reference names on this server, or undefined. Smb shares log in with Standard credentials; the rule matches the services' duplicate rules (tag first, else name). */
export function resolveReference(dir: Directory, ref: NamedReference): string | undefined {
  const name = ref.name.trim().toLowerCase();
  if (ref.kind === 'server') return dir.servers.get(name);
  const tag = ref.tag.toLowerCase();
  if (ref.kind === 'credentials') {
    const ofType = dir.credentials.filter((r) => r.type === 'Standard');
    return (tag ? ofType.find((r) => r.unique_id.toLowerCase() === tag) : ofType.find((r) => r.username_key === name))?.id;
  }
  const ofType = dir.cloud.filter((r) => r.type === ref.type);
  return (tag ? ofType.find((r) => r.unique_id.toLowerCase() === tag) : ofType.find((r) => r.name.toLowerCase() === name))?.id;
}

const gatewayNames = (gw: Raw): string[] =>
  Array.isArray(gw.gatewayServerNames) ? gw.gatewayServerNames.map(String) : nonEmpty(gw.gatewayServerName) ? [gw.gatewayServerName] : [];

/** Every reference of an import item, in the order the fields appear. */
export function referencesOf(raw: Raw): NamedReference[] {
  const refs: NamedReference[] = [];
  if (nonEmpty(raw.hostName)) refs.push({ kind: 'server', name: raw.hostName, role: 'repository host' });
  const share = isObj(raw.share) ? raw.share : undefined;
  if (share && isObj(share.credentials))
    refs.push({ kind: 'credentials', name: String(share.credentials.credentialsName), tag: nonEmpty(share.credentials.credentialsTag) ? share.credentials.credentialsTag : '' });
  if (share && isObj(share.gatewayServer)) for (const n of gatewayNames(share.gatewayServer)) refs.push({ kind: 'server', name: n, role: 'gateway server' });
  const account = isObj(raw.account) ? raw.account : undefined;
  if (account && isObj(account.credentials)) {
    const c = account.credentials;
    refs.push({ kind: 'cloud', name: String(c.name), tag: nonEmpty(c.tag) ? c.tag : '', type: String(c.type) });
  }
  const connection = account && isObj(account.connectionSettings) ? account.connectionSettings : undefined;
  if (connection && Array.isArray(connection.gatewayServers)) for (const n of connection.gatewayServers) refs.push({ kind: 'server', name: String(n), role: 'gateway server' });
  const mount = flatMountServer(raw.mountServer);
  if (mount && nonEmpty(mount.mountServerName)) refs.push({ kind: 'server', name: mount.mountServerName, role: 'mount server' });
  if (isObj(raw.proxyAppliance) && nonEmpty(raw.proxyAppliance.managedServerName))
    refs.push({ kind: 'server', name: raw.proxyAppliance.managedServerName, role: 'proxy appliance' });
  return refs;
}

/** An item's mount server settings: 1.3 keeps them per OS, Rampart one mount server (the Windows one, else the Linux one). */
function flatMountServer(value: unknown): Raw | undefined {
  if (!isObj(value)) return undefined;
  if (!('mountServerSettingsType' in value)) return value;
  const chosen = isObj(value.windows) ? value.windows : value.linux;
  return isObj(chosen) ? chosen : undefined;
}

/**
 * Import item → the RepositorySpec adding by hand takes: every name replaced by
 * the id it resolves to on this server. A name that does not resolve (the object
 * was removed meanwhile) throws, naming it; nothing has been stored by then.
 */
export function specFromItem(raw: Raw, dir: Directory): Raw {
  const id = (ref: NamedReference) => {
    const found = resolveReference(dir, ref);
    if (!found) throw new Error(`The ${describeReference(ref)} was not found.`);
    return found;
  };
  const server = (name: string, role: string) => id({ kind: 'server', name, role });
  const { hostName, kind: _kind, mountServer, share, account, proxyAppliance, ...rest } = raw;
  const spec: Raw = { ...rest };
  if (nonEmpty(hostName)) spec.hostId = server(hostName, 'repository host');
  const flatMount = flatMountServer(mountServer);
  if (flatMount) {
    const { mountServerName, ...settings } = flatMount;
    spec.mountServer = { ...settings, mountServerId: server(String(mountServerName), 'mount server') };
  }
  if (isObj(share)) {
    const out: Raw = { sharePath: share.sharePath };
    if (isObj(share.credentials))
      out.credentialsId = id({
        kind: 'credentials',
        name: String(share.credentials.credentialsName),
        tag: nonEmpty(share.credentials.credentialsTag) ? share.credentials.credentialsTag : '',
      });
    if (isObj(share.gatewayServer)) {
      const names = gatewayNames(share.gatewayServer);
      out.gatewayServer = {
        autoSelect: share.gatewayServer.autoSelect ?? share.gatewayServer.autoSelectEnabled ?? names.length === 0,
        ...(names.length ? { gatewayServerIds: names.map((n) => server(n, 'gateway server')) } : {}),
      };
    }
    spec.share = out;
  }
  if (isObj(account)) {
    const { credentials, connectionSettings, ...settings } = account;
    const out: Raw = { ...settings };
    if (isObj(credentials))
      out.credentialsId = id({ kind: 'cloud', name: String(credentials.name), tag: nonEmpty(credentials.tag) ? credentials.tag : '', type: String(credentials.type) });
    if (isObj(connectionSettings)) {
      const gateways = Array.isArray(connectionSettings.gatewayServers) ? connectionSettings.gatewayServers.map((n) => server(String(n), 'gateway server')) : [];
      out.connectionSettings = { connectionType: connectionSettings.connectionType, ...(gateways.length ? { gatewayServerIds: gateways } : {}) };
    }
    spec.account = out;
  }
  if (isObj(proxyAppliance)) {
    const { managedServerName, ...settings } = proxyAppliance;
    spec.proxyAppliance = { ...settings, ...(nonEmpty(managedServerName) ? { managedServerId: server(managedServerName, 'proxy appliance') } : {}) };
  }
  return spec;
}

/** Names of this server's objects by id, for the export. */
export interface Names {
  server(id: string): string;
  credentials(id: string): { credentialsName: string; credentialsTag: string };
  cloud(id: string): { name: string; tag: string; type: string };
}

/**
 * Stored settings → the documented import item: no ids, every reference by name.
 * Only the documented fields of the reference objects are written, so an export
 * always imports back through the strict schema.
 */
export function itemFromSettings(base: Raw, settings: Raw, names: Names): Raw {
  const { hostId, mountServer, share, account, proxyAppliance, ...rest } = settings;
  const item: Raw = { ...base };
  if (nonEmpty(hostId)) item.hostName = names.server(hostId);
  Object.assign(item, rest);
  if (isObj(mountServer)) {
    const { mountServerId, writeCacheFolder, vPowerNFSEnabled, vPowerNFSPortSettings } = mountServer;
    item.mountServer = {
      mountServerName: names.server(String(mountServerId)),
      writeCacheFolder: writeCacheFolder ?? '',
      vPowerNFSEnabled: vPowerNFSEnabled === true,
      ...(isObj(vPowerNFSPortSettings) ? { vPowerNFSPortSettings } : {}),
    };
  }
  if (isObj(share)) {
    const out: Raw = { sharePath: share.sharePath };
    if (nonEmpty(share.credentialsId)) out.credentials = names.credentials(share.credentialsId);
    if (isObj(share.gatewayServer)) {
      const ids = Array.isArray(share.gatewayServer.gatewayServerIds) ? share.gatewayServer.gatewayServerIds.map(String) : [];
      out.gatewayServer = {
        autoSelect: share.gatewayServer.autoSelect ?? ids.length === 0,
        ...(ids.length ? { gatewayServerName: names.server(ids[0]!), gatewayServerNames: ids.map(names.server) } : {}),
      };
    }
    item.share = out;
  }
  if (isObj(account)) {
    const { credentialsId, connectionSettings, ...settings } = account;
    const out: Raw = { ...settings, credentials: names.cloud(String(credentialsId)) };
    if (isObj(connectionSettings)) {
      const ids = Array.isArray(connectionSettings.gatewayServerIds) ? connectionSettings.gatewayServerIds.map(String) : [];
      out.connectionSettings = { connectionType: connectionSettings.connectionType ?? 'Direct', ...(ids.length ? { gatewayServers: ids.map(names.server) } : {}) };
    }
    item.account = out;
  }
  if (isObj(proxyAppliance)) {
    const { managedServerId, ...settings } = proxyAppliance;
    // Veeam's import specs require managedServerId (this server's id); the name is what another server resolves.
    item.proxyAppliance = { ...settings, ...(nonEmpty(managedServerId) ? { managedServerId, managedServerName: names.server(managedServerId) } : {}) };
  }
  return item;
}
