import { MAX_LIMIT } from '../../../http/paging.js';
import type { CredentialsRow, CredentialsService } from '../../credentials/service.js';
import { CredentialsExportSpec, CredentialsImportSpecCollection } from '../schemas.js';
import { arrayItems, nonEmpty, tagOf, wildcardMatcher, type AutomationSection, type ImportItem } from '../section.js';

type Raw = Record<string, unknown>;
const LINUX_SECRETS = ['privateKey', 'passphrase', 'rootPassword'] as const;

/**
 * What an imported record is matched by: its tag, or without one its type and user name
 * (adding by hand allows several untagged records per user name; an import matches the first).
 */
export function credentialsIdentity(type: string, username: string, tag: string): string {
  return tag !== '' ? `tag:${tag.toLowerCase()}` : `user:${type}:${username.toLowerCase()}`;
}

function describe(raw: Raw) {
  const tag = tagOf(raw);
  return {
    identity: credentialsIdentity(String(raw.type), String(raw.username), tag),
    label: `${String(raw.type)} credentials "${String(raw.username)}"${tag ? ` (tag "${tag}")` : ''}`,
  };
}

/** CredentialsImportSpec → the flat CredentialsSpec the service takes. */
function spec(raw: Raw): Raw {
  const linux = (raw.linuxAdditionalSettings ?? {}) as Raw;
  const base = { type: raw.type, username: raw.username, password: raw.password, description: raw.description ?? '', tag: raw.tag, uniqueId: raw.uniqueId };
  if (raw.type !== 'Linux') return base;
  return {
    ...base,
    SSHPort: linux.SSHPort,
    autoElevated: linux.autoElevated,
    elevateToRoot: linux.elevateToRoot,
    addToSudoers: linux.addToSudoers,
    useSu: linux.useSu,
    ...Object.fromEntries(LINUX_SECRETS.map((f) => [f, linux[f]])),
  };
}

function missingSecretWarning(raw: Raw): string[] {
  const linux = (raw.linuxAdditionalSettings ?? {}) as Raw;
  if (nonEmpty(raw.password) || (raw.type === 'Linux' && nonEmpty(linux.privateKey))) return [];
  return ['imported without its password (exports carry none): set it before the record is used (POST /api/v1/credentials/{id}/changepassword)'];
}

export function credentialsSection(service: CredentialsService): AutomationSection {
  const toImportSpec = (row: CredentialsRow, secrets: Record<string, string>) => {
    const item: Raw = {
      username: row.username,
      password: secrets.password ?? '',
      description: row.description,
      tag: row.unique_id,
      uniqueId: row.unique_id,
      type: row.type,
    };
    if (row.type === 'Linux') {
      const elevate = Number(row.elevate_to_root) === 1;
      item.linuxAdditionalSettings = {
        SSHPort: Number(row.ssh_port),
        autoElevated: elevate,
        elevateToRoot: elevate,
        addToSudoers: Number(row.add_to_sudoers) === 1,
        useSu: Number(row.use_su) === 1,
        ...Object.fromEntries(LINUX_SECRETS.map((f) => [f, secrets[f] ?? ''])),
      };
    }
    return item;
  };
  const allRows = async () => (await service.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'username_key', orderAsc: true }, {})).rows;

  return {
    kind: 'credentials',
    order: 10,
    exportSchema: CredentialsExportSpec,
    importSchema: CredentialsImportSpecCollection,
    secretPaths: ['password', ...LINUX_SECRETS.map((f) => `linuxAdditionalSettings/${f}`)],
    items: (collection) => arrayItems(collection, ['credentials'], describe),
    async export(filter, withSecrets) {
      const ids = filter.ids as string[] | undefined;
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      // showHiddenCreds: Rampart keeps no hidden service accounts, so there is nothing more to show.
      const rows = (await allRows()).filter((r) => (!ids || ids.includes(r.id)) && (!types || types.includes(r.type)) && (!names || names(r.username)));
      const credentials = [];
      for (const row of rows) credentials.push(toImportSpec(row, withSecrets ? ((await service.secretsFor(row.id)) as Record<string, string>) : {}));
      return { credentials };
    },
    async existing() {
      // Several records may share a user name (only a tag is unique): an untagged import matches the first.
      const byIdentity = new Map<string, string>();
      for (const r of await allRows()) {
        const identity = credentialsIdentity(r.type, r.username, r.unique_id);
        if (!byIdentity.has(identity)) byIdentity.set(identity, r.id);
      }
      return byIdentity;
    },
    async create(item: ImportItem) {
      await service.add(spec(item.raw), { secretMayBeMissing: true });
      return missingSecretWarning(item.raw);
    },
    async createMany(items: ImportItem[]) {
      const results = await service.addMany(
        items.map((i) => spec(i.raw)),
        { secretMayBeMissing: true },
      );
      return results.map((r, i) => (r instanceof Error ? r : missingSecretWarning(items[i]!.raw)));
    },
    async overwrite(item: ImportItem, id: string) {
      await service.overwrite(id, spec(item.raw));
      return missingSecretWarning(item.raw).length > 0 ? ['overwritten without a password: the stored secrets were kept'] : [];
    },
  };
}
