import { endpointsFor, type AzureEndpoints, type AzureRegion } from './endpoints.js';

/** A failure the administrator can act on; the message holds Azure's code and message, never a secret or token. */
export class AzureDeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AzureDeploymentError';
  }
}

/** How Rampart signs in to Azure Resource Manager: an AzureCompute record's application and client secret. */
export interface AzureApplication {
  region: AzureRegion;
  tenantId: string;
  applicationId: string;
  /** Client secret. Never logged, never in an error message. */
  secret: string;
}

export interface HelperApplianceTarget {
  /** The Azure subscription id. */
  subscription: string;
  location: string;
  resourceGroup: string;
  vmName: string;
  sshPort: number;
  /** OpenSSH public key Rampart holds the private half of. */
  sshPublicKey: string;
  storageAccount?: string;
  /** Both or neither: an existing network and subnet in `resourceGroup`; without them Rampart makes a small one. */
  virtualNetwork?: string;
  subnet?: string;
}

/** What a deployment made (resource ids, in creation order): removal deletes exactly these, newest first. */
export interface ApplianceResources {
  created: string[];
  vmId?: string;
}

export type Step = <T>(title: string, work: () => Promise<T>) => Promise<T>;

type Json = Record<string, unknown>;

/** ARM API versions Rampart speaks; the stand-in in the tests checks them. */
export const ARM_API_VERSIONS = { resources: '2021-04-01', network: '2023-09-01', compute: '2023-09-01' } as const;
/** The helper's size and image: the smallest general-purpose size and Ubuntu LTS, as a Linux helper needs nothing more. */
const VM_SIZE = 'Standard_B1s';
const IMAGE = { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' };
const ADMIN_USER = 'rampart';

/**
 * Deploys and removes the Linux helper appliance of an Azure subscription through Azure
 * Resource Manager's REST API (the calls an ARM template would make, one by one, so each is
 * a session log record): sign in with the application's client secret, then
 * resource group → virtual network (when none is named) → network interface → VM, each a
 * PUT polled until its provisioningState is Succeeded. A failed deployment removes what it
 * had created. The endpoints are the region's, or RAMPART_AZURE_* overrides.
 */
export class AzureHelperAppliances {
  constructor(
    private readonly overrides: Partial<AzureEndpoints>,
    private readonly options: { pollMs?: number; timeoutMs?: number; fetchImpl?: typeof fetch } = {},
  ) {}

  async deploy(app: AzureApplication, target: HelperApplianceTarget, previous: ApplianceResources, step: Step): Promise<ApplianceResources> {
    const arm = await step('Signing in to Azure Resource Manager', () => this.signIn(app));
    const created = [...previous.created];
    const madeNow: string[] = [];
    const made = (id: string) => {
      if (!created.includes(id)) {
        created.push(id);
        madeNow.push(id);
      }
    };
    const sub = `/subscriptions/${encodeURIComponent(target.subscription)}`;
    const group = `${sub}/resourceGroups/${encodeURIComponent(target.resourceGroup)}`;
    try {
      await step(`Resource group ${target.resourceGroup} in ${target.location}`, async () => {
        if ((await arm.get(group, ARM_API_VERSIONS.resources)) !== undefined) return;
        await arm.put(group, ARM_API_VERSIONS.resources, { location: target.location, tags: { createdBy: 'Rampart' } });
        made(group);
      });
      const subnetId = await step(`Network for ${target.vmName}`, async () => {
        if (target.virtualNetwork && target.subnet) {
          const id = `${group}/providers/Microsoft.Network/virtualNetworks/${encodeURIComponent(target.virtualNetwork)}/subnets/${encodeURIComponent(target.subnet)}`;
          if ((await arm.get(id, ARM_API_VERSIONS.network)) === undefined)
            throw new AzureDeploymentError(`The virtual network "${target.virtualNetwork}" has no subnet "${target.subnet}" in resource group "${target.resourceGroup}".`);
          return id;
        }
        const vnet = `${group}/providers/Microsoft.Network/virtualNetworks/rampart-helper-vnet`;
        await arm.putAndWait(vnet, ARM_API_VERSIONS.network, {
          location: target.location,
          tags: { createdBy: 'Rampart' },
          properties: { addressSpace: { addressPrefixes: ['10.254.0.0/24'] }, subnets: [{ name: 'default', properties: { addressPrefix: '10.254.0.0/24' } }] },
        });
        made(vnet);
        return `${vnet}/subnets/default`;
      });
      const nic = `${group}/providers/Microsoft.Network/networkInterfaces/${encodeURIComponent(`${target.vmName}-nic`)}`;
      await step(`Network interface ${target.vmName}-nic`, async () => {
        await arm.putAndWait(nic, ARM_API_VERSIONS.network, {
          location: target.location,
          tags: { createdBy: 'Rampart' },
          properties: { ipConfigurations: [{ name: 'ipconfig1', properties: { subnet: { id: subnetId }, privateIPAllocationMethod: 'Dynamic' } }] },
        });
        made(nic);
      });
      const vm = `${group}/providers/Microsoft.Compute/virtualMachines/${encodeURIComponent(target.vmName)}`;
      await step(`VM ${target.vmName} (${VM_SIZE}, SSH on port ${target.sshPort})`, async () => {
        await arm.putAndWait(vm, ARM_API_VERSIONS.compute, vmBody(target, nic));
        made(vm);
      });
      return { created, vmId: vm };
    } catch (err) {
      // Nothing half-made stays behind: what this attempt created goes, newest first.
      if (madeNow.length > 0) await step(`Removing what the failed deployment created (${madeNow.length} resources)`, () => deleteAll(arm, madeNow)).catch(() => undefined);
      throw err;
    }
  }

  async remove(app: AzureApplication, resources: ApplianceResources, step: Step): Promise<void> {
    const arm = await step('Signing in to Azure Resource Manager', () => this.signIn(app));
    await step(`Deleting ${resources.created.length} Azure resources`, () => deleteAll(arm, resources.created));
  }

  private async signIn(app: AzureApplication): Promise<ArmClient> {
    const endpoints = endpointsFor(app.region, this.overrides);
    const fetchImpl = this.options.fetchImpl ?? fetch;
    const url = `${endpoints.authorityUrl}/${encodeURIComponent(app.tenantId)}/oauth2/v2.0/token`;
    const res = await call(fetchImpl, url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.applicationId,
        client_secret: app.secret,
        scope: `${endpoints.managementUrl}/.default`,
      }).toString(),
    });
    const json = await jsonOf(res);
    if (res.status !== 200 || typeof json.access_token !== 'string') {
      const description = typeof json.error_description === 'string' ? ` (${json.error_description.split(/\r?\n/)[0]!.slice(0, 300)})` : '';
      throw new AzureDeploymentError(`The Microsoft identity platform refused the application ${app.applicationId}: ${String(json.error ?? res.status)}${description}.`);
    }
    return new ArmClient(endpoints.managementUrl, json.access_token, fetchImpl, this.options.pollMs ?? 2000, this.options.timeoutMs ?? 15 * 60_000);
  }
}

function vmBody(target: HelperApplianceTarget, nicId: string): Json {
  // cloud-init moves sshd to the chosen port before anyone connects.
  const customData =
    target.sshPort === 22
      ? undefined
      : Buffer.from(
          `#cloud-config\nwrite_files:\n  - path: /etc/ssh/sshd_config.d/rampart.conf\n    content: "Port ${target.sshPort}\\n"\nruncmd:\n  - [systemctl, restart, ssh]\n`,
        ).toString('base64');
  return {
    location: target.location,
    tags: { createdBy: 'Rampart', role: 'helper-appliance' },
    properties: {
      hardwareProfile: { vmSize: VM_SIZE },
      storageProfile: { imageReference: IMAGE, osDisk: { createOption: 'FromImage', managedDisk: { storageAccountType: 'Standard_LRS' }, deleteOption: 'Delete' } },
      osProfile: {
        computerName: target.vmName,
        adminUsername: ADMIN_USER,
        ...(customData ? { customData } : {}),
        linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: `/home/${ADMIN_USER}/.ssh/authorized_keys`, keyData: target.sshPublicKey }] } },
      },
      networkProfile: { networkInterfaces: [{ id: nicId, properties: { primary: true, deleteOption: 'Delete' } }] },
      ...(target.storageAccount ? { diagnosticsProfile: { bootDiagnostics: { enabled: true, storageUri: `https://${target.storageAccount}.blob.core.windows.net/` } } } : {}),
    },
  };
}

async function deleteAll(arm: ArmClient, ids: readonly string[]): Promise<void> {
  for (const id of [...ids].reverse()) await arm.deleteAndWait(id, apiVersionOf(id));
}

function apiVersionOf(id: string): string {
  if (id.includes('/providers/Microsoft.Compute/')) return ARM_API_VERSIONS.compute;
  if (id.includes('/providers/Microsoft.Network/')) return ARM_API_VERSIONS.network;
  return ARM_API_VERSIONS.resources;
}

/** The few ARM verbs a deployment needs, with Azure's errors turned into messages. */
class ArmClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch,
    private readonly pollMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** The resource, or undefined when Azure says it is not there (404). */
  async get(id: string, apiVersion: string): Promise<Json | undefined> {
    const res = await this.send('GET', id, apiVersion);
    if (res.status === 404) return undefined;
    return this.check('GET', id, res);
  }

  async put(id: string, apiVersion: string, body: Json): Promise<Json> {
    return this.check('PUT', id, await this.send('PUT', id, apiVersion, body));
  }

  /** PUT, then poll until provisioningState is Succeeded (Failed or Canceled fail with Azure's reason). */
  async putAndWait(id: string, apiVersion: string, body: Json): Promise<Json> {
    let resource = await this.put(id, apiVersion, body);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const state = String((resource.properties as Json | undefined)?.provisioningState ?? 'Succeeded');
      if (state === 'Succeeded') return resource;
      if (state === 'Failed' || state === 'Canceled') throw new AzureDeploymentError(`Azure could not provision ${nameOf(id)}: provisioningState ${state}.`);
      if (Date.now() > deadline) throw new AzureDeploymentError(`Azure did not finish provisioning ${nameOf(id)} in ${Math.round(this.timeoutMs / 60_000)} minutes.`);
      await sleep(this.pollMs);
      resource = (await this.get(id, apiVersion)) ?? {};
    }
  }

  /** DELETE, then poll until the resource is gone (404); one already gone is fine. */
  async deleteAndWait(id: string, apiVersion: string): Promise<void> {
    const res = await this.send('DELETE', id, apiVersion);
    if (res.status !== 404) await this.check('DELETE', id, res);
    const deadline = Date.now() + this.timeoutMs;
    while ((await this.get(id, apiVersion)) !== undefined) {
      if (Date.now() > deadline) throw new AzureDeploymentError(`Azure did not finish deleting ${nameOf(id)} in ${Math.round(this.timeoutMs / 60_000)} minutes.`);
      await sleep(this.pollMs);
    }
  }

  private send(method: string, id: string, apiVersion: string, body?: Json): Promise<Response> {
    return call(this.fetchImpl, `${this.base}${id}?api-version=${apiVersion}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  private async check(method: string, id: string, res: Response): Promise<Json> {
    const json = await jsonOf(res);
    if (res.status >= 200 && res.status < 300) return json;
    const error = json.error as Json | undefined;
    const detail = error ? `${String(error.code ?? res.status)}${error.message ? ` (${String(error.message).slice(0, 300)})` : ''}` : `HTTP ${res.status}`;
    throw new AzureDeploymentError(`Azure refused ${method} ${nameOf(id)}: ${detail}.`);
  }
}

/** `virtualMachines/helper-westeurope`: enough to tell which call failed, without the subscription. */
function nameOf(id: string): string {
  return decodeURIComponent(id.split('/').slice(-2).join('/'));
}

async function call(fetchImpl: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, { ...init, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw new AzureDeploymentError(`Cannot reach ${new URL(url).origin}: ${(err as Error).message}.`);
  }
}

async function jsonOf(res: Response): Promise<Json> {
  try {
    const value = (await res.json()) as unknown;
    return value && typeof value === 'object' ? (value as Json) : {};
  } catch {
    return {};
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
