import { MAX_LIMIT } from '../../../http/paging.js';
import type { SessionOutcome } from '../../../sessions/runner.js';
import type { CredentialsRow, CredentialsService } from '../../credentials/service.js';
import type { ManagedServersService } from '../../managed-servers/service.js';
import { managedServerModel, type ManagedServerRow } from '../../managed-servers/model.js';
import { ManagedServersExportSpec, ManagedServersImportSpecCollection } from '../infrastructure-schemas.js';
import { arrayItems, nonEmpty, wildcardMatcher, type AutomationSection, type ImportItem, type ImportPlan } from '../section.js';
import { credentialsIdentity } from './credentials.js';

type Raw = Record<string, unknown>;
const KEYS = { WindowsHost: 'windowsHosts', LinuxHost: 'linuxHosts', ViHost: 'viHosts' } as const;
const CREDENTIALS_TYPE = { WindowsHost: 'Standard', LinuxHost: 'Linux', ViHost: 'Standard' } as const;
type ServerType = keyof typeof KEYS;

/** A managed server is known by its name (unique, never changed): the rule that refuses a duplicate added by hand. */
export const serverIdentity = (name: string) => `name:${name.trim().toLowerCase()}`;

function describe(raw: Raw) {
  return { identity: serverIdentity(String(raw.name)), label: `${String(raw.type)} "${String(raw.name)}"` };
}

/** The record a `{credentialsName, credentialsTag}` reference names: by tag when given, else by user name, of the type the server logs in with. */
function resolve(rows: CredentialsRow[], type: ServerType, ref: Raw | undefined): CredentialsRow | undefined {
  if (!ref) return undefined;
  const tag = nonEmpty(ref.credentialsTag) ? ref.credentialsTag.toLowerCase() : undefined;
  const name = String(ref.credentialsName).toLowerCase();
  const ofType = rows.filter((r) => r.type === CREDENTIALS_TYPE[type]);
  return tag !== undefined ? ofType.find((r) => r.unique_id.toLowerCase() === tag) : ofType.find((r) => r.username_key === name);
}

function describeRef(ref: Raw): string {
  return `credentials "${String(ref.credentialsName)}"${nonEmpty(ref.credentialsTag) ? ` (tag "${ref.credentialsTag}")` : ''}`;
}

/** The ManagedServerSpec that adding by hand takes. */
function spec(raw: Raw, credentialsId: string | undefined): Raw {
  const out: Raw = { name: raw.name, description: raw.description, type: raw.type, credentialsId, credentialsStorageType: 'Permanent' };
  for (const key of ['sshSettings', 'sshFingerprint', 'networkSettings', 'port', 'certificateThumbprint', 'viHostType'])
    if (raw[key] !== undefined && raw[key] !== null) out[key] = raw[key];
  return out;
}

/** Warnings the add/edit logged (trust on first use, re-pin) are in the session log already; the import counts them. */
const warningsOf = (outcome: SessionOutcome): string[] => (outcome.result === 'Warning' ? [`${outcome.message} With warnings: see the records above.`] : []);

export function managedServersSection(servers: ManagedServersService, credentials: CredentialsService): AutomationSection {
  const allServers = async () => (await servers.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, {})).rows as ManagedServerRow[];
  const allCredentials = async () => (await credentials.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'username_key', orderAsc: true }, {})).rows;
  const credentialsFor = async (item: ImportItem) => {
    const ref = item.raw.credentials as Raw | undefined;
    const row = resolve(await allCredentials(), item.raw.type as ServerType, ref);
    if (ref && !row) throw new Error(`The ${describeRef(ref)} was not found.`);
    return row?.id;
  };

  const toImportSpec = (row: ManagedServerRow, byId: Map<string, CredentialsRow>): Raw => {
    const model = managedServerModel(row) as Raw;
    const creds = row.credentials_id ? byId.get(row.credentials_id) : undefined;
    const item: Raw = { name: row.name, description: row.description, type: row.type };
    if (creds) item.credentials = { credentialsName: creds.username, credentialsTag: creds.unique_id };
    if (row.type === 'LinuxHost') Object.assign(item, { sshSettings: model.sshSettings, sshFingerprint: row.ssh_fingerprint ?? '' });
    if (row.type === 'ViHost') Object.assign(item, { viHostType: model.viHostType, port: model.port, certificateThumbprint: row.certificate_thumbprint });
    if (row.type === 'WindowsHost') Object.assign(item, { networkSettings: model.networkSettings, port: model.port, certificateThumbprint: row.certificate_thumbprint });
    return item;
  };

  return {
    kind: 'managedServers',
    order: 30,
    exportSchema: ManagedServersExportSpec,
    importSchema: ManagedServersImportSpecCollection,
    secretPaths: [],
    items: (collection) => arrayItems(collection, Object.values(KEYS), describe),
    async export(filter) {
      const ids = filter.ids as string[] | undefined;
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      const byId = new Map((await allCredentials()).map((c) => [c.id, c]));
      // The backup server itself is every server's own, and a single-use server has no credentials record to name: neither can be moved.
      const rows = (await allServers()).filter(
        (r) =>
          Number(r.is_backup_server) === 0 &&
          r.credentials_storage_type === 'Permanent' &&
          (!ids || ids.includes(r.id)) &&
          (!types || types.includes(r.type)) &&
          (!names || names(r.name)),
      );
      const out: Record<string, Raw[]> = { windowsHosts: [], linuxHosts: [], viHosts: [] };
      for (const row of rows) out[KEYS[row.type as ServerType]]!.push(toImportSpec(row, byId));
      return out;
    },
    async existing() {
      return new Map((await allServers()).map((r) => [serverIdentity(r.name), r.id]));
    },
    async missingReferences(item: ImportItem, plan: ImportPlan) {
      const ref = item.raw.credentials as Raw | undefined;
      if (!ref) return [];
      const type = item.raw.type as ServerType;
      if (resolve(await allCredentials(), type, ref)) return [];
      const tag = nonEmpty(ref.credentialsTag) ? ref.credentialsTag : '';
      if (plan.plannedIn('credentials', credentialsIdentity(CREDENTIALS_TYPE[type], String(ref.credentialsName), tag))) return [];
      return [describeRef(ref)];
    },
    async create(item, ctx) {
      return warningsOf(await servers.addInSession(ctx, spec(item.raw, await credentialsFor(item))));
    },
    async overwrite(item, id, ctx) {
      return warningsOf(await servers.editInSession(ctx, id, spec(item.raw, await credentialsFor(item))));
    },
  };
}
