import { MAX_LIMIT } from '../../../http/paging.js';
import type { CloudCredentialsRow, CloudCredentialsService } from '../../cloud-credentials/service.js';
import { CloudCredentialsExportSpec, CloudCredentialsImportSpecCollection } from '../schemas.js';
import { arrayItems, getAt, nonEmpty, tagOf, wildcardMatcher, type AutomationSection, type ImportItem } from '../section.js';

type Raw = Record<string, unknown>;

/** Collection key of each type, as documented. */
const KEYS = { AzureStorage: 'azureStorage', AzureCompute: 'azureCompute', Amazon: 'amazon', Google: 'google' } as const;
const NAME = { AzureStorage: 'account', AzureCompute: 'connectionName', Amazon: 'accessKey', Google: 'accessKey' } as const;
const SECRET = {
  AzureStorage: ['sharedKey'],
  AzureCompute: ['existingAccount/subscription/secret', 'existingAccount/subscription/certificate/certificate', 'existingAccount/subscription/certificate/password'],
  Amazon: ['secretKey'],
  Google: ['secretKey'],
} as const;
type CloudType = keyof typeof KEYS;

/** The cloud credentials service's duplicate rule. */
function identity(type: string, name: string, tag: string): string {
  return tag !== '' ? `tag:${tag.toLowerCase()}` : `name:${type}:${name.toLowerCase()}`;
}

function describe(raw: Raw) {
  const type = raw.type as CloudType;
  const name = String(raw[NAME[type]] ?? '');
  const tag = tagOf(raw);
  return { identity: identity(type, name, tag), label: `${type} cloud credentials "${name}"${tag ? ` (tag "${tag}")` : ''}` };
}

function hasSecret(raw: Raw): boolean {
  return SECRET[raw.type as CloudType].some((p) => !p.endsWith('/password') && nonEmpty(getAt(raw, p)));
}

/** Import spec → CloudCredentialsSpec (an AzureCompute import is always an existing application). */
function spec(raw: Raw): Raw {
  return raw.type === 'AzureCompute' ? { ...raw, creationMode: 'ExistingAccount' } : raw;
}

export function cloudCredentialsSection(service: CloudCredentialsService): AutomationSection {
  const allRows = async () => (await service.list({ skip: 0, limit: MAX_LIMIT, orderBy: 'name_key', orderAsc: true }, undefined)).rows;
  const toImportSpec = (row: CloudCredentialsRow, secrets: Record<string, string>): Raw => {
    const base = { type: row.type, description: row.description, tag: row.unique_id, uniqueId: row.unique_id };
    switch (row.type) {
      case 'AzureStorage':
        return { ...base, account: row.account ?? '', sharedKey: secrets.sharedKey ?? '' };
      case 'AzureCompute': {
        const signIn =
          row.auth_method === 'certificate'
            ? { certificate: { certificate: secrets.certificate ?? '', formatType: 'pfx', password: secrets.certificatePassword ?? '' } }
            : { secret: secrets.secret ?? '' };
        return {
          ...base,
          connectionName: row.connection_name ?? '',
          existingAccount: {
            deployment: { deploymentType: row.deployment_type ?? 'MicrosoftAzure', region: row.region },
            subscription: { tenantId: row.tenant_id ?? '', applicationId: row.application_id ?? '', ...signIn },
          },
        };
      }
      default:
        return { ...base, accessKey: row.access_key ?? '', secretKey: secrets.secretKey ?? '' };
    }
  };

  return {
    kind: 'cloudcredentials',
    order: 12,
    exportSchema: CloudCredentialsExportSpec,
    importSchema: CloudCredentialsImportSpecCollection,
    secretPaths: [...new Set(Object.values(SECRET).flat())],
    items: (collection) => arrayItems(collection, Object.values(KEYS), describe),
    async export(filter, withSecrets) {
      const ids = filter.ids as string[] | undefined;
      const types = filter.types as string[] | undefined;
      const names = wildcardMatcher(filter.names as string[] | undefined);
      const rows = (await allRows()).filter((r) => (!ids || ids.includes(r.id)) && (!types || types.includes(r.type)) && (!names || names(r.name)));
      const out: Record<string, Raw[]> = { azureStorage: [], azureCompute: [], amazon: [], google: [] };
      for (const row of rows) out[KEYS[row.type as CloudType]]!.push(toImportSpec(row, withSecrets ? await service.secretsFor(row.id) : {}));
      return out;
    },
    async existing() {
      return new Map((await allRows()).map((r) => [r.dedup_key, r.id]));
    },
    async create(item: ImportItem) {
      await service.add(spec(item.raw), { secretMayBeMissing: true });
      return hasSecret(item.raw)
        ? []
        : ['imported without its secret (exports carry none): set it before the record is used (POST /api/v1/cloudCredentials/{id}/changeSecretKey or changeCertificate)'];
    },
    async overwrite(item: ImportItem, id: string) {
      await service.overwrite(id, spec(item.raw));
      return hasSecret(item.raw) ? [] : ['overwritten without a secret: the stored secret was kept'];
    },
  };
}

/** The identity a repository's cloud credentials reference resolves against within one import. */
export const cloudCredentialsIdentity = identity;
