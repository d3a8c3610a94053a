import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { ssh2 } from '../../probe/ssh2-library.js';
import type { Store } from '../../store/database.js';
import type { HelperAppliancesTable } from '../../store/schema.js';
import type { ReferenceRegistry } from '../../store/references.js';
import { inTransaction } from '../../store/transaction.js';
import type { SecretOwner, SecretStore } from '../../vault/secret-store.js';
import type { SessionRecord } from '../../sessions/model.js';
import type { SessionContext, SessionRunner } from '../../sessions/runner.js';
import { logStep } from '../../sessions/steps.js';
import { badRequest, notFound } from '../../http/errors.js';
import { toStoredInstant } from '../../http/dates.js';
import { AZURE_REGIONS, type AzureRegion } from '../../azure/endpoints.js';
import type { ApplianceResources, AzureApplication, AzureHelperAppliances, HelperApplianceTarget, Step } from '../../azure/helper-appliance.js';
import { CLOUD_CREDENTIALS_KIND, type CloudCredentialsService } from '../cloud-credentials/service.js';

export type HelperApplianceRow = Selectable<HelperAppliancesTable>;

/** The spec as stored: every value the deployment used, defaults filled in. */
export interface StoredApplianceSpec {
  subscriptionId: string;
  location: string;
  resourceGroup: string;
  storageAccount?: string;
  virtualNetwork?: string;
  subnet?: string;
  SSHPort: number;
}

const HELPER_APPLIANCE_KIND = 'helperAppliances';

const ownerOf = (id: string): SecretOwner => ({ kind: HELPER_APPLIANCE_KIND, type: 'AzureCompute', id });

export function helperApplianceModel(row: HelperApplianceRow) {
  const spec = JSON.parse(row.spec) as StoredApplianceSpec;
  return { type: 'AzureCompute' as const, id: row.id, vmName: row.vm_name, ...spec };
}

/** Azure's naming rules for what the spec names (Microsoft.Resources, Storage, Network). */
const RULES: { field: keyof StoredApplianceSpec; pattern: RegExp; rule: string }[] = [
  { field: 'location', pattern: /^[a-z0-9]{2,40}$/, rule: 'an Azure region name such as westeurope (lower-case letters and digits)' },
  { field: 'resourceGroup', pattern: /^[-\w.()]{0,89}[-\w()]$/, rule: '1 to 90 letters, digits, underscores, hyphens, periods or parentheses, not ending with a period' },
  { field: 'storageAccount', pattern: /^[a-z0-9]{3,24}$/, rule: '3 to 24 lower-case letters and digits' },
  { field: 'virtualNetwork', pattern: /^[A-Za-z0-9][\w.-]{0,62}[\w]$|^[A-Za-z0-9]$/, rule: '1 to 64 letters, digits, underscores, periods or hyphens' },
  { field: 'subnet', pattern: /^[A-Za-z0-9][\w.-]{0,78}[\w]$|^[A-Za-z0-9]$/, rule: '1 to 80 letters, digits, underscores, periods or hyphens' },
];

/**
 * Linux helper appliances of AzureCompute accounts: one per subscription and location
 * ("Add or Edit"). Each deployment or removal is a session that talks to Azure Resource
 * Manager (azure/helper-appliance.ts); the row holds the spec and the resource ids the
 * deployment created, and the appliance's SSH private key is sealed in the vault.
 */
export class HelperAppliancesService {
  constructor(
    private readonly deps: {
      store: Store;
      runner: SessionRunner;
      cloudCredentials: CloudCredentialsService;
      secrets: SecretStore;
      references: ReferenceRegistry;
      azure: AzureHelperAppliances;
    },
  ) {
    // A record with appliances in Azure cannot go: nothing else could remove them.
    deps.references.register(CLOUD_CREDENTIALS_KIND, async (db, id) => {
      const rows = await db.selectFrom('helper_appliances').select(['id', 'vm_name']).where('cloud_credentials_id', '=', id).execute();
      return rows.map((r) => ({ kind: 'helper appliance', id: r.id, name: r.vm_name }));
    });
  }

  private get db() {
    return this.deps.store.db;
  }

  private async credentials(id: string) {
    const row = await this.deps.cloudCredentials.get(id);
    if (row.type !== 'AzureCompute') throw badRequest(`Cloud credentials record ${id} is of type ${row.type}; helper appliances belong to AzureCompute accounts.`, id);
    return row;
  }

  async list(credentialsId: string, page: { skip: number; limit: number }) {
    await this.credentials(credentialsId);
    const base = this.db.selectFrom('helper_appliances').where('cloud_credentials_id', '=', credentialsId.toLowerCase());
    const total = Number((await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);
    const rows = page.limit === 0 ? [] : await base.selectAll().orderBy('vm_name').orderBy('id').offset(page.skip).limit(page.limit).execute();
    return { rows, total };
  }

  async get(credentialsId: string, applianceId: string): Promise<HelperApplianceRow> {
    await this.credentials(credentialsId);
    const row = await this.db
      .selectFrom('helper_appliances')
      .selectAll()
      .where('id', '=', applianceId.toLowerCase())
      .where('cloud_credentials_id', '=', credentialsId.toLowerCase())
      .executeTakeFirst();
    if (!row) throw notFound(`Helper appliance ${applianceId} of cloud credentials record ${credentialsId} was not found.`, applianceId);
    return row;
  }

  /** Add or edit: the appliance of the spec's subscription and location is deployed (again) with these settings. */
  async deploy(credentialsId: string, body: Record<string, unknown>, createdBy: string): Promise<SessionRecord> {
    const record = await this.credentials(credentialsId);
    const spec = readSpec(body);
    if (record.deployment_type === 'MicrosoftAzureStack') throw badRequest('Helper appliances are deployed to Microsoft Azure; this record is for Azure Stack Hub.', credentialsId);
    if (record.auth_method !== 'secret')
      throw badRequest(`Cloud credentials record ${credentialsId} signs in with a certificate; deploying a helper appliance needs the application's client secret.`, credentialsId);
    const existing = await this.db
      .selectFrom('helper_appliances')
      .selectAll()
      .where('cloud_credentials_id', '=', record.id)
      .where('subscription_id', '=', spec.subscriptionId)
      .where('location', '=', spec.location)
      .executeTakeFirst();
    if (existing && existing.state !== 'Deployed' && (await this.busy(existing)))
      throw badRequest(`The helper appliance ${existing.vm_name} is being ${existing.state === 'Removing' ? 'removed' : 'deployed'}; wait for that session to end.`, existing.id);
    const row: HelperApplianceRow = existing
      ? { ...existing, spec: JSON.stringify(spec), state: 'Deploying' }
      : {
          id: randomUUID(),
          cloud_credentials_id: record.id,
          subscription_id: spec.subscriptionId,
          location: spec.location,
          spec: JSON.stringify(spec),
          vm_name: `rampart-helper-${spec.location}`,
          state: 'Deploying',
          resources: null,
          creation_time: toStoredInstant(),
        };
    let publicKey: string;
    if (existing) {
      await this.db.updateTable('helper_appliances').set({ spec: row.spec, state: 'Deploying' }).where('id', '=', row.id).execute();
      publicKey = (await this.deps.secrets.readAll(this.db, ownerOf(row.id))).sshPublicKey ?? '';
    } else {
      const key = ssh2().utils.generateKeyPairSync('ed25519', { comment: row.vm_name });
      publicKey = key.public;
      await inTransaction(this.db, async (trx) => {
        await trx.insertInto('helper_appliances').values(row).execute();
        await this.deps.secrets.write(trx, ownerOf(row.id), { sshPrivateKey: key.private, sshPublicKey: key.public });
      });
    }
    const target: HelperApplianceTarget = {
      subscription: spec.subscriptionId,
      location: spec.location,
      resourceGroup: spec.resourceGroup,
      vmName: row.vm_name,
      sshPort: spec.SSHPort,
      sshPublicKey: publicKey,
      ...(spec.storageAccount ? { storageAccount: spec.storageAccount } : {}),
      ...(spec.virtualNetwork ? { virtualNetwork: spec.virtualNetwork, subnet: spec.subnet } : {}),
    };
    return this.deps.runner.start({ name: `Deploy helper appliance ${row.vm_name}`, type: 'AzureApplianceDeploy', resourceId: row.id, createdBy }, async (ctx) => {
      try {
        const previous: ApplianceResources = existing?.resources ? (JSON.parse(existing.resources) as ApplianceResources) : { created: [] };
        const resources = await this.deps.azure.deploy(await this.application(record.id, record), target, previous, stepsOf(ctx));
        await this.db
          .updateTable('helper_appliances')
          .set({ state: 'Deployed', resources: JSON.stringify(resources) })
          .where('id', '=', row.id)
          .execute();
        return { result: 'Success', message: `Helper appliance ${row.vm_name} is deployed in ${spec.location} (resource group ${spec.resourceGroup}).` };
      } catch (err) {
        // A new appliance that never came up is forgotten; an edited one keeps its previous settings.
        if (existing) await this.db.updateTable('helper_appliances').set({ spec: existing.spec, state: 'Deployed' }).where('id', '=', row.id).execute();
        else await this.forget(row.id);
        throw err;
      }
    });
  }

  /** Deletes what the deployment created in Azure, then the appliance. */
  async remove(credentialsId: string, applianceId: string, createdBy: string): Promise<SessionRecord> {
    const row = await this.get(credentialsId, applianceId);
    if (row.state !== 'Deployed' && (await this.busy(row)))
      throw badRequest(`The helper appliance ${row.vm_name} is being ${row.state === 'Removing' ? 'removed' : 'deployed'}; wait for that session to end.`, row.id);
    const record = await this.credentials(credentialsId);
    await this.db.updateTable('helper_appliances').set({ state: 'Removing' }).where('id', '=', row.id).execute();
    return this.deps.runner.start({ name: `Remove helper appliance ${row.vm_name}`, type: 'InfrastructureItemDeletion', resourceId: row.id, createdBy }, async (ctx) => {
      try {
        const resources: ApplianceResources = row.resources ? (JSON.parse(row.resources) as ApplianceResources) : { created: [] };
        await this.deps.azure.remove(await this.application(record.id, record), resources, stepsOf(ctx));
      } catch (err) {
        await this.db.updateTable('helper_appliances').set({ state: 'Deployed' }).where('id', '=', row.id).execute();
        throw err;
      }
      await this.forget(row.id);
      return { result: 'Success', message: `Helper appliance ${row.vm_name} is removed.` };
    });
  }

  /**
   * Whether the appliance's last session is still working. A row left Deploying or Removing by
   * a node that died (its session was then marked Failed) is not busy: it may be deployed or
   * removed again, and the deployment's PUTs and removal's DELETEs are safe to repeat.
   */
  private async busy(row: HelperApplianceRow): Promise<boolean> {
    const last = await this.db.selectFrom('sessions').select('state').where('resource_id', '=', row.id).orderBy('creation_time', 'desc').executeTakeFirst();
    return last !== undefined && last.state !== 'Stopped';
  }

  private async forget(id: string): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.deleteFrom('helper_appliances').where('id', '=', id).execute();
      await this.deps.secrets.removeAll(trx, ownerOf(id));
    });
  }

  private async application(id: string, record: { region: string | null; tenant_id: string | null; application_id: string | null }): Promise<AzureApplication> {
    const secrets = await this.deps.cloudCredentials.secretsFor(id);
    if (!secrets.secret) throw new Error(`Cloud credentials record ${id} has no client secret yet; set it (POST /api/v1/cloudCredentials/${id}/changeSecretKey).`);
    const region = (AZURE_REGIONS as readonly string[]).includes(record.region ?? '') ? (record.region as AzureRegion) : 'Global';
    return { region, tenantId: record.tenant_id ?? '', applicationId: record.application_id ?? '', secret: secrets.secret };
  }
}

function stepsOf(ctx: SessionContext): Step {
  return (title, work) => logStep(ctx, title, work);
}

function readSpec(body: Record<string, unknown>): StoredApplianceSpec {
  if (body.type !== 'AzureCompute') throw badRequest(`Invalid "type": "${String(body.type).slice(0, 40)}"; helper appliances exist for AzureCompute only.`);
  const text = (field: string) => (typeof body[field] === 'string' && body[field] !== '' ? (body[field] as string) : undefined);
  const location = text('location')?.toLowerCase();
  if (!location) throw badRequest('The request body is missing "location": Rampart needs the Azure region to deploy the helper appliance in.');
  const spec: StoredApplianceSpec = {
    subscriptionId: String(body.subscriptionId).toLowerCase(),
    location,
    resourceGroup: text('resourceGroup') ?? `rampart-helpers-${location}`,
    SSHPort: typeof body.SSHPort === 'number' ? body.SSHPort : 22,
  };
  for (const field of ['storageAccount', 'virtualNetwork', 'subnet'] as const) {
    const value = text(field);
    if (value !== undefined) spec[field] = value;
  }
  for (const { field, pattern, rule } of RULES) {
    const value = spec[field];
    if (typeof value === 'string' && !pattern.test(value)) throw badRequest(`Invalid "${field}": "${value.slice(0, 100)}" is not ${rule}.`);
  }
  if ((spec.virtualNetwork === undefined) !== (spec.subnet === undefined))
    throw badRequest(`Give "virtualNetwork" and "subnet" together (an existing network and its subnet), or neither (Rampart then makes a small network).`);
  return spec;
}
