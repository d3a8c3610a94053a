import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Store } from '../../store/database.js';
import type { CloudCredentialsTable } from '../../store/schema.js';
import { fetchPage, likePattern, type PageRequest } from '../../store/paged-query.js';
import { inTransaction } from '../../store/transaction.js';
import { inGroupedTransaction } from '../../store/group-commit.js';
import { describeUsers, type ReferenceRegistry } from '../../store/references.js';
import { isUniqueViolation } from '../../store/unique-violation.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import { badRequest, notFound } from '../../http/errors.js';
import { toStoredInstant } from '../../http/dates.js';
import { renamedField } from '../../http/renamed-fields.js';
import { AzureRegistrationError, type AzureAppRegistration, type RegisteredApplication } from '../../azure/app-registration.js';
import type { AzureRegion } from '../../azure/endpoints.js';
import { checkPfx } from './certificate-check.js';
import type { CloudCredentialsType } from './schemas.js';

export const CLOUD_CREDENTIALS_KIND = 'cloudCredentials';

export type CloudCredentialsRow = Selectable<CloudCredentialsTable>;
type Body = Record<string, unknown>;
type Obj = Record<string, unknown> | null | undefined;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The field that names a record of each type: its list "Name" and, without a uniqueId, its identity. */
const NAME_FIELD: Record<CloudCredentialsType, 'accessKey' | 'account' | 'connectionName'> = {
  Amazon: 'accessKey',
  Google: 'accessKey',
  AzureStorage: 'account',
  AzureCompute: 'connectionName',
};

/**
 * The duplicate rule, as for credentials: a non-empty uniqueId (tag) identifies
 * one record; without one, type plus name (access key, storage account or
 * connection name, case-insensitive) does.
 */
function dedupKey(type: string, name: string, uniqueId: string): string {
  return uniqueId !== '' ? `tag:${uniqueId.toLowerCase()}` : `name:${type}:${name.toLowerCase()}`;
}

function ownerOf(row: Pick<CloudCredentialsRow, 'id' | 'type'>): SecretOwner {
  return { kind: CLOUD_CREDENTIALS_KIND, type: row.type, id: row.id };
}

function required(value: string | undefined, field: string, type: string): string {
  if (!value) throw badRequest(`The request body is missing the required field "${field}" (${type} cloud credentials need it).`);
  return value;
}

/** CloudCredentialsModel in the 1.2 spelling (revisions/replies/cloud-credentials.ts shapes it); secrets are never sent. */
export function cloudCredentialsModel(row: CloudCredentialsRow) {
  const base = { id: row.id, type: row.type as CloudCredentialsType, description: row.description, uniqueId: row.unique_id };
  switch (row.type) {
    case 'Amazon':
    case 'Google':
      return { ...base, accessKey: row.access_key ?? '' };
    case 'AzureStorage':
      return { ...base, account: row.account ?? '' };
    default:
      return {
        ...base,
        connectionName: row.connection_name ?? '',
        deployment: { deploymentType: row.deployment_type ?? 'MicrosoftAzure', region: row.region ?? undefined },
        subscription: { tenantId: row.tenant_id ?? '', applicationId: row.application_id ?? '', subscriptions: [] },
      };
  }
}

export class CloudCredentialsService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretStore,
    private readonly references: ReferenceRegistry,
    private readonly azure: AzureAppRegistration,
  ) {}

  async list(page: PageRequest, types: string[] | undefined) {
    let query = this.store.db.selectFrom('cloud_credentials');
    if (types) query = query.where('type', 'in', types);
    if (page.nameFilter) {
      const pattern = likePattern(page.nameFilter);
      query = query.where(({ or }) => or(['name_key', 'description_key', 'unique_id'].map((c) => sql<boolean>`lower(${sql.ref(c)}) like ${pattern} escape '\\'`)));
    }
    return fetchPage<CloudCredentialsRow>(query, { ...page, nameFilter: undefined });
  }

  async get(id: string): Promise<CloudCredentialsRow> {
    const row = await this.store.db.selectFrom('cloud_credentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Cloud credentials record ${id} was not found.`, id);
    return row;
  }

  /**
   * `secretMayBeMissing` is for imports: Veeam exports every record with empty
   * secrets, so an imported record may arrive without one and waits for it to be set.
   */
  async add(spec: Body, options: { secretMayBeMissing?: boolean } = {}): Promise<CloudCredentialsRow> {
    const { row, secrets } = await this.parse(spec, options.secretMayBeMissing ?? false);
    await this.refuseDuplicate(row);
    // Grouped: adds arriving together share one commit (store/group-commit.ts).
    await this.guardUnique(row, () =>
      inGroupedTransaction(this.store.db, async (trx) => {
        await trx.insertInto('cloud_credentials').values(row).execute();
        await this.secrets.write(trx, ownerOf(row), secrets);
      }),
    );
    return row;
  }

  /**
   * An import's overwrite: every non-secret field from the spec, plus the secrets
   * it carries (an empty one leaves the stored secret as it is), in one transaction.
   */
  async overwrite(id: string, spec: Body): Promise<CloudCredentialsRow> {
    const existing = await this.get(id);
    if (spec.type !== existing.type) throw badRequest(`The type of a cloud credentials record cannot be changed (it is ${existing.type}); add a new record instead.`, id);
    const parsed = await this.parse(spec, true);
    const row: CloudCredentialsRow = { ...parsed.row, id, creation_time: existing.creation_time };
    const given = Object.fromEntries(Object.entries(parsed.secrets).filter(([, v]) => v !== undefined && v !== ''));
    // Without a new secret the record keeps signing in the way it did.
    if (Object.keys(given).length === 0) {
      row.auth_method = existing.auth_method;
      row.certificate_thumbprint = existing.certificate_thumbprint;
    }
    const secrets: Record<string, string | null | undefined> = { ...given };
    if (given.secret) Object.assign(secrets, { certificate: null, certificatePassword: null });
    if (given.certificate) Object.assign(secrets, { secret: null, certificatePassword: given.certificatePassword ?? null });
    await this.refuseDuplicate(row);
    const { id: _id, type: _t, creation_time: _c, ...changes } = row;
    await this.guardUnique(row, () =>
      inTransaction(this.store.db, async (trx) => {
        await trx.updateTable('cloud_credentials').set(changes).where('id', '=', id).execute();
        await this.secrets.write(trx, ownerOf(row), secrets);
      }),
    );
    return row;
  }

  /** A spec as a row and its secrets, checked as each type needs. */
  private async parse(spec: Body, secretMayBeMissing: boolean): Promise<{ row: CloudCredentialsRow; secrets: Record<string, string | undefined> }> {
    const type = spec.type as CloudCredentialsType;
    const row = this.emptyRow(type, spec);
    const secrets: Record<string, string | undefined> = {};
    const secret = (field: string) => (secretMayBeMissing ? text(spec[field]) : required(text(spec[field]), field, type));
    if (type === 'Amazon' || type === 'Google') {
      row.access_key = required(text(spec.accessKey), 'accessKey', type);
      secrets.secretKey = secret('secretKey');
    } else if (type === 'AzureStorage') {
      row.account = required(text(spec.account), 'account', type);
      secrets.sharedKey = secret('sharedKey');
    } else {
      row.connection_name = required(text(spec.connectionName), 'connectionName', type);
      const mode = required(text(spec.creationMode), 'creationMode', type);
      Object.assign(
        secrets,
        mode === 'NewAccount' ? await this.newAccount(row, spec.newAccount as Obj) : await this.existingAccount(row, spec.existingAccount as Obj, secretMayBeMissing),
      );
    }
    this.name(row);
    return { row, secrets };
  }

  async edit(id: string, model: Body): Promise<CloudCredentialsRow> {
    const existing = await this.get(id);
    if (model.id !== undefined && model.id !== id) throw badRequest(`The body's id ${String(model.id)} is not the id in the path (${id}).`, id);
    if (model.type !== existing.type) throw badRequest(`The type of a cloud credentials record cannot be changed (it is ${existing.type}); add a new record instead.`, id);
    const row: CloudCredentialsRow = { ...existing };
    row.unique_id = renamedField<string>(model, 'tag', 'uniqueId', existing.unique_id) ?? existing.unique_id;
    row.description = typeof model.description === 'string' ? model.description : existing.description;
    if (existing.type === 'Amazon' || existing.type === 'Google') row.access_key = text(model.accessKey) ?? existing.access_key;
    if (existing.type === 'AzureStorage') row.account = text(model.account) ?? existing.account;
    if (existing.type === 'AzureCompute') {
      row.connection_name = text(model.connectionName) ?? existing.connection_name;
      const deployment = model.deployment as Obj;
      if (deployment) {
        row.deployment_type = String(deployment.deploymentType);
        row.region = text(deployment.region) ?? null;
      }
      const subscription = model.subscription as Obj;
      if (subscription) {
        row.tenant_id = String(subscription.tenantId);
        row.application_id = String(subscription.applicationId);
      }
    }
    this.name(row);
    await this.refuseDuplicate(row);
    const { id: _id, type: _t, creation_time: _c, ...changes } = row;
    await this.guardUnique(row, () => this.store.db.updateTable('cloud_credentials').set(changes).where('id', '=', id).execute());
    return row;
  }

  async remove(id: string): Promise<void> {
    await inTransaction(this.store.db, async (trx) => {
      const row = await trx.selectFrom('cloud_credentials').select(['id', 'type', 'name']).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound(`Cloud credentials record ${id} was not found.`, id);
      const users = await this.references.usersOf(trx, CLOUD_CREDENTIALS_KIND, id);
      if (users.length > 0) throw badRequest(`Cloud credentials record "${row.name}" (${id}) cannot be removed: it is used by ${describeUsers(users)}.`, id);
      await this.secrets.removeAll(trx, ownerOf(row));
      await trx.deleteFrom('cloud_credentials').where('id', '=', id).execute();
    });
  }

  /** The secret key, shared key or (AzureCompute) client secret, by type. */
  async changeSecretKey(id: string, newSecretKey: string): Promise<CloudCredentialsRow> {
    const row = await this.get(id);
    const field = row.type === 'AzureStorage' ? 'sharedKey' : row.type === 'AzureCompute' ? 'secret' : 'secretKey';
    if (row.type !== 'AzureCompute') {
      await this.secrets.write(this.store.db, ownerOf(row), { [field]: newSecretKey });
      return row;
    }
    // A client secret replaces certificate sign-in.
    const changed = { ...row, auth_method: 'secret', certificate_thumbprint: null };
    await inTransaction(this.store.db, async (trx) => {
      await trx.updateTable('cloud_credentials').set({ auth_method: 'secret', certificate_thumbprint: null }).where('id', '=', id).execute();
      await this.secrets.write(trx, ownerOf(row), { secret: newSecretKey, certificate: null, certificatePassword: null });
    });
    return changed;
  }

  async changeCertificate(id: string, upload: { certificate: string; password?: string | null }): Promise<CloudCredentialsRow> {
    const row = await this.get(id);
    if (row.type !== 'AzureCompute') throw badRequest(`Cloud credentials record ${id} is of type ${row.type}; only AzureCompute records sign in with a certificate.`, id);
    const { thumbprint } = await checkPfx(upload.certificate, upload.password ?? undefined);
    const changed = { ...row, auth_method: 'certificate', certificate_thumbprint: thumbprint };
    await inTransaction(this.store.db, async (trx) => {
      await trx.updateTable('cloud_credentials').set({ auth_method: 'certificate', certificate_thumbprint: thumbprint }).where('id', '=', id).execute();
      await this.secrets.write(trx, ownerOf(row), { certificate: upload.certificate.replace(/\s+/g, ''), certificatePassword: upload.password || null, secret: null });
    });
    return changed;
  }

  async requestDeviceCode(region: AzureRegion) {
    return this.azureCall(() => this.azure.requestDeviceCode(region));
  }

  /** Creates an Azure application; the reply carries its secret once, as Veeam documents. */
  async registerApplication(verificationCode: string): Promise<RegisteredApplication> {
    return this.azureCall(() => this.azure.register(verificationCode));
  }

  /** Opens a record's secrets for a connection (repositories, restores). Never for a reply. */
  async secretsFor(id: string): Promise<Record<string, string>> {
    const row = await this.get(id);
    return this.secrets.readAll(this.store.db, ownerOf(row));
  }

  private emptyRow(type: CloudCredentialsType, spec: Body): CloudCredentialsRow {
    const description = typeof spec.description === 'string' ? spec.description : '';
    return {
      id: randomUUID(),
      type,
      name: '',
      name_key: '',
      description,
      description_key: '',
      unique_id: renamedField<string>(spec, 'tag', 'uniqueId') ?? '',
      dedup_key: '',
      access_key: null,
      account: null,
      connection_name: null,
      deployment_type: null,
      region: null,
      tenant_id: null,
      application_id: null,
      auth_method: null,
      certificate_thumbprint: null,
      creation_time: toStoredInstant(),
    };
  }

  /** Derived columns: list name, lower-cased sort keys, duplicate key. */
  private name(row: CloudCredentialsRow): void {
    const field = NAME_FIELD[row.type as CloudCredentialsType];
    row.name = (field === 'accessKey' ? row.access_key : field === 'account' ? row.account : row.connection_name) ?? '';
    row.name_key = row.name.toLowerCase();
    row.description_key = row.description.toLowerCase();
    row.dedup_key = dedupKey(row.type, row.name, row.unique_id);
  }

  private async existingAccount(row: CloudCredentialsRow, account: Obj, secretMayBeMissing = false): Promise<Record<string, string | undefined>> {
    if (!account) throw badRequest('The request body is missing the required field "existingAccount" (creationMode ExistingAccount needs it).');
    const deployment = account.deployment as Record<string, unknown>;
    const subscription = account.subscription as Record<string, unknown>;
    row.deployment_type = String(deployment.deploymentType);
    row.region = text(deployment.region) ?? null;
    row.tenant_id = String(subscription.tenantId);
    row.application_id = String(subscription.applicationId);
    const secret = text(subscription.secret);
    const certificate = subscription.certificate as { certificate: string; password?: string | null } | null | undefined;
    if (secret && certificate) throw badRequest('Give either "existingAccount.subscription.secret" or "existingAccount.subscription.certificate", not both.');
    if (secret) {
      row.auth_method = 'secret';
      return { secret };
    }
    if (secretMayBeMissing && !text(certificate?.certificate)) {
      // Imported without its secret: it signs in the way the export said, once the secret is set.
      row.auth_method = certificate ? 'certificate' : 'secret';
      return {};
    }
    if (!certificate)
      throw badRequest('The request body is missing "existingAccount.subscription.secret" or "existingAccount.subscription.certificate" (the application needs one to sign in).');
    const { thumbprint } = await checkPfx(certificate.certificate, certificate.password ?? undefined);
    row.auth_method = 'certificate';
    row.certificate_thumbprint = thumbprint;
    return { certificate: certificate.certificate.replace(/\s+/g, ''), certificatePassword: certificate.password || undefined };
  }

  private async newAccount(row: CloudCredentialsRow, account: Obj): Promise<Record<string, string | undefined>> {
    if (!account) throw badRequest('The request body is missing the required field "newAccount" (creationMode NewAccount needs it).');
    const registered = await this.azureCall(() => this.azure.register(String(account.verificationCode)));
    row.deployment_type = 'MicrosoftAzure';
    row.region = registered.region;
    row.tenant_id = registered.tenantId;
    row.application_id = registered.applicationId;
    row.auth_method = 'secret';
    return { secret: registered.secret };
  }

  private async azureCall<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AzureRegistrationError) throw badRequest(err.message);
      throw err;
    }
  }

  private async refuseDuplicate(row: CloudCredentialsRow): Promise<void> {
    const other = await this.store.db.selectFrom('cloud_credentials').select('id').where('dedup_key', '=', row.dedup_key).where('id', '!=', row.id).executeTakeFirst();
    if (other) throw duplicate(row, other.id);
  }

  private async guardUnique<T>(row: CloudCredentialsRow, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const other = await this.store.db.selectFrom('cloud_credentials').select('id').where('dedup_key', '=', row.dedup_key).executeTakeFirst();
      throw duplicate(row, other?.id);
    }
  }
}

function duplicate(row: CloudCredentialsRow, otherId: string | undefined) {
  const field = NAME_FIELD[row.type as CloudCredentialsType];
  const what = row.unique_id !== '' ? `the uniqueId (tag) "${row.unique_id}"` : `the ${field} "${row.name}" and no uniqueId (tag)`;
  return badRequest(
    `A ${row.unique_id !== '' ? '' : `${row.type} `}cloud credentials record with ${what} already exists${otherId ? ` (${otherId})` : ''}; give a different uniqueId (tag) to keep both.`,
    otherId,
  );
}
