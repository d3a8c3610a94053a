import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { startArmStandIn, type ArmStandIn } from './azure-arm-stand-in.js';

/**
 * Azure helper appliances through the HTTP API, deployed into a local stand-in for the
 * Microsoft identity platform and Azure Resource Manager (azure-arm-stand-in.ts): what
 * is stored and validated, what Rampart creates in Azure and removes again, and a
 * refused deployment failing its session with Azure's message and leaving nothing.
 */

let t: TestServer;
let token: string;
let arm: ArmStandIn;
let azureId: string;
let amazonId: string;
const subscriptionId = randomUUID();

const base = () => `/api/v1/cloudCredentials/${azureId}/helperAppliances`;

async function finished(sessionId: string) {
  await t.server.runner.settled(sessionId);
  const res = await t.api.get(`/api/v1/sessions/${sessionId}`, { token });
  expect(res.body.state).toBe('Stopped');
  const logs = await t.api.get(`/api/v1/sessions/${sessionId}/logs`, { token });
  return { session: res.body, log: logs.body.records.map((r: any) => `${r.status}: ${r.title} ${r.description ?? ''}`).join('\n') as string };
}

const armKeys = () => [...arm.resources.keys()].map((k) => k.replace(`/subscriptions/${subscriptionId}`, ''));

beforeAll(async () => {
  arm = await startArmStandIn();
  t = await startTestServer({
    RAMPART_AZURE_AUTHORITY_URL: arm.url,
    RAMPART_AZURE_MANAGEMENT_URL: arm.url,
    ...(postgresUrl ? { DATABASE_URL: await createTestDatabase() } : {}),
  });
  token = await t.adminToken();
  const azure = await t.api.post('/api/v1/cloudCredentials', {
    token,
    json: {
      type: 'AzureCompute',
      connectionName: 'Azure helpers',
      creationMode: 'ExistingAccount',
      existingAccount: {
        deployment: { deploymentType: 'MicrosoftAzure', region: 'Global' },
        subscription: { tenantId: arm.tenantId, applicationId: arm.applicationId, secret: arm.secret },
      },
    },
  });
  expect(azure.status, azure.text).toBe(201);
  azureId = azure.body.id;
  const amazon = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: 'AKIAHELPERTEST', secretKey: 'secret-key' } });
  expect(amazon.status, amazon.text).toBe(201);
  amazonId = amazon.body.id;
}, 60_000);

afterAll(async () => {
  await t?.cleanup();
  await arm?.close();
});

describe('Azure helper appliances', () => {
  it('validates the spec and the record before anything reaches Azure (400 naming the field)', async () => {
    const post = (json: Record<string, unknown>, url = base()) => t.api.post(url, { token, json });
    const ok = { type: 'AzureCompute', subscriptionId, location: 'westeurope' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...ok, type: 'Amazon' }, /"type"/],
      [{ ...ok, location: undefined }, /"location"/],
      [{ ...ok, location: 'West Europe' }, /"location"/],
      [{ ...ok, storageAccount: 'Bad_Account' }, /"storageAccount"/],
      [{ ...ok, resourceGroup: 'ends-with-period.' }, /"resourceGroup"/],
      [{ ...ok, virtualNetwork: 'vnet1' }, /"virtualNetwork" and "subnet"/],
      [{ ...ok, SSHPort: 70000 }, /SSHPort/],
      [{ ...ok, subscriptionId: 'not-a-uuid' }, /subscriptionId/],
    ];
    for (const [json, message] of cases) {
      const res = await post(json);
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    const wrongType = await post(ok, `/api/v1/cloudCredentials/${amazonId}/helperAppliances`);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/AzureCompute/);
    expect((await t.api.get(`/api/v1/cloudCredentials/${randomUUID()}/helperAppliances`, { token })).status).toBe(404);
    expect(arm.calls).toEqual([]);
  });

  it('deploys (resource group, network, NIC, VM through ARM), lists, edits and removes an appliance', async () => {
    const res = await t.api.post(base(), {
      token,
      json: { type: 'AzureCompute', subscriptionId, location: 'westeurope', storageAccount: 'rampartdiag01', resourceGroup: 'helpers-rg', SSHPort: 2222 },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.sessionType).toBe('AzureApplianceDeploy');
    const { session, log } = await finished(res.body.id);
    expect(session.result.result, log).toBe('Success');
    expect(log).toMatch(/Signing in to Azure Resource Manager/);
    expect(log).toMatch(/VM rampart-helper-westeurope \(Standard_B1s, SSH on port 2222\)/);
    expect(armKeys().sort()).toEqual(
      [
        '/resourcegroups/helpers-rg',
        '/resourcegroups/helpers-rg/providers/microsoft.network/virtualnetworks/rampart-helper-vnet',
        '/resourcegroups/helpers-rg/providers/microsoft.network/virtualnetworks/rampart-helper-vnet/subnets/default',
        '/resourcegroups/helpers-rg/providers/microsoft.network/networkinterfaces/rampart-helper-westeurope-nic',
        '/resourcegroups/helpers-rg/providers/microsoft.compute/virtualmachines/rampart-helper-westeurope',
      ].sort(),
    );
    const vmKey = [...arm.resources.keys()].find((k) => k.endsWith('/virtualmachines/rampart-helper-westeurope'))!;
    const vm = arm.resources.get(vmKey)!.properties as any;
    expect(vm.provisioningState).toBe('Succeeded');
    expect(vm.diagnosticsProfile.bootDiagnostics.storageUri).toBe('https://rampartdiag01.blob.core.windows.net/');
    expect(Buffer.from(vm.osProfile.customData, 'base64').toString()).toContain('Port 2222');
    // The client secret went to the identity platform only, never to a log.
    expect(t.logText()).not.toContain(arm.secret);

    const list = await t.api.get(base(), { token });
    expect(list.status).toBe(200);
    expect(list.body.pagination).toMatchObject({ total: 1, count: 1 });
    const appliance = list.body.data[0];
    expect(appliance).toEqual({
      type: 'AzureCompute',
      id: expect.any(String),
      subscriptionId,
      vmName: 'rampart-helper-westeurope',
      location: 'westeurope',
      storageAccount: 'rampartdiag01',
      resourceGroup: 'helpers-rg',
      SSHPort: 2222,
    });
    for (const version of ['1.1-rev0', '1.2-rev1', '1.3-rev2']) {
      const one = await t.api.get(`${base()}/${appliance.id}`, { token, version });
      expect(one.status).toBe(200);
      expect(one.body).toEqual(appliance);
    }

    // Edit: the same subscription and location is the same appliance, redeployed with the new settings.
    const edit = await t.api.post(base(), { token, json: { type: 'AzureCompute', subscriptionId, location: 'westeurope', resourceGroup: 'helpers-rg', SSHPort: 22 } });
    expect(edit.status, edit.text).toBe(201);
    expect((await finished(edit.body.id)).session.result.result).toBe('Success');
    const edited = await t.api.get(`${base()}/${appliance.id}`, { token });
    expect(edited.body.SSHPort).toBe(22);
    expect(edited.body.storageAccount).toBeUndefined();
    expect((arm.resources.get(vmKey)!.properties as any).osProfile.customData).toBeUndefined();

    // The record cannot go while its appliance is in Azure.
    const removeRecord = await t.api.request('DELETE', `/api/v1/cloudCredentials/${azureId}`, { token });
    expect(removeRecord.status).toBe(400);
    expect(removeRecord.body.message).toMatch(/helper appliance "rampart-helper-westeurope"/);

    // 1.1-rev0: 204 without a body; the removal runs as a session all the same.
    const removed = await t.api.request('DELETE', `${base()}/${appliance.id}`, { token, version: '1.1-rev0' });
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    const sessions = await t.api.get('/api/v1/sessions?typeFilter=InfrastructureItemDeletion', { token });
    const removal = sessions.body.data.find((s: any) => s.resourceId === appliance.id);
    const done = await finished(removal.id);
    expect(done.session.result.result, done.log).toBe('Success');
    expect(armKeys()).toEqual([]);
    expect((await t.api.get(`${base()}/${appliance.id}`, { token })).status).toBe(404);
  }, 60_000);

  it('a deployment Azure refuses fails its session with Azure’s message and leaves nothing behind', async () => {
    arm.refusePut = {
      suffix: '/virtualmachines/rampart-helper-northeurope',
      status: 409,
      code: 'SkuNotAvailable',
      message: 'The requested size Standard_B1s is not available in northeurope.',
    };
    try {
      const res = await t.api.post(base(), { token, json: { type: 'AzureCompute', subscriptionId, location: 'northeurope' } });
      expect(res.status, res.text).toBe(201);
      const { session, log } = await finished(res.body.id);
      expect(session.result.result).toBe('Failed');
      expect(session.result.message).toMatch(/SkuNotAvailable \(The requested size Standard_B1s is not available in northeurope\.\)/);
      expect(log).toMatch(/Removing what the failed deployment created \(3 resources\)/);
    } finally {
      arm.refusePut = undefined;
    }
    expect(armKeys()).toEqual([]);
    expect((await t.api.get(base(), { token })).body.data).toEqual([]);
  }, 60_000);

  it('1.2 and later answer the removal with 201 and its session; a wrong client secret fails the session, not the request', async () => {
    const res = await t.api.post(base(), { token, json: { type: 'AzureCompute', subscriptionId, location: 'uksouth' } });
    // While its session works (the VM's provisioning is polled), the appliance takes no other change.
    const busy = await t.api.post(base(), { token, json: { type: 'AzureCompute', subscriptionId, location: 'uksouth' } });
    expect(busy.status).toBe(400);
    expect(busy.body.message).toMatch(/is being deployed; wait for that session to end/);
    expect((await finished(res.body.id)).session.result.result).toBe('Success');
    const id = (await t.api.get(base(), { token })).body.data[0].id;
    // Left "Removing" by a node that died (its last session has ended): it can be removed again.
    await t.server.store.db.updateTable('helper_appliances').set({ state: 'Removing' }).where('id', '=', id).execute();
    const removed = await t.api.request('DELETE', `${base()}/${id}`, { token, version: '1.2-rev1' });
    expect(removed.status, removed.text).toBe(201);
    expect((await finished(removed.body.id)).session.result.result).toBe('Success');

    const change = await t.api.post(`/api/v1/cloudCredentials/${azureId}/changeSecretKey`, { token, json: { newSecretKey: 'Wrong~Secret' } });
    expect(change.status, change.text).toBe(201);
    const refused = await t.api.post(base(), { token, json: { type: 'AzureCompute', subscriptionId, location: 'uksouth' } });
    const { session } = await finished(refused.body.id);
    expect(session.result.result).toBe('Failed');
    expect(session.result.message).toMatch(/invalid_client \(AADSTS7000215/);
    expect(t.logText()).not.toContain('Wrong~Secret');
  }, 60_000);
});
