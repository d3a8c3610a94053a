import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { bodyOf } from './azure-stand-in.js';

/**
 * A local stand-in for the Microsoft identity platform's client-credentials grant and the
 * part of Azure Resource Manager a helper appliance deployment uses: resource groups,
 * virtual networks (and their subnets), network interfaces and virtual machines, each
 * PUT / GET / DELETE with an `api-version` and a bearer token. Like ARM, a VM answers its
 * PUT with provisioningState Creating and is Succeeded on the next GET; a NIC refers to a
 * subnet that must exist, a VM to a NIC that must exist, and a resource group cannot be
 * deleted while it holds resources. It records every call.
 */
export interface ArmStandIn {
  url: string;
  tenantId: string;
  applicationId: string;
  secret: string;
  calls: { method: string; path: string; apiVersion: string | null; body: Record<string, unknown> }[];
  /** Resources by id (lower-cased), as ARM would hold them. */
  resources: Map<string, Record<string, unknown>>;
  /** Answers a PUT whose path ends with this suffix with the given ARM error, once set. */
  refusePut?: { suffix: string; status: number; code: string; message: string };
  close(): Promise<void>;
}

const API_VERSIONS: [RegExp, string][] = [
  [/\/providers\/microsoft\.compute\//, '2023-09-01'],
  [/\/providers\/microsoft\.network\//, '2023-09-01'],
  [/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/, '2021-04-01'],
];

export async function startArmStandIn(): Promise<ArmStandIn> {
  const tokens = new Set<string>();
  const state: ArmStandIn = {
    url: '',
    tenantId: randomUUID(),
    applicationId: randomUUID(),
    secret: `Arm~${randomUUID().replace(/-/g, '')}`,
    calls: [],
    resources: new Map(),
    close: async () => undefined,
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const path = url.pathname;
    const body = await bodyOf(req);
    state.calls.push({ method: req.method ?? '', path, apiVersion: url.searchParams.get('api-version'), body });
    const send = (status: number, json?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    const armError = (status: number, code: string, message: string) => send(status, { error: { code, message } });

    if (req.method === 'POST' && path === `/${state.tenantId}/oauth2/v2.0/token`) {
      if (body.grant_type !== 'client_credentials') return send(400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003: grant type.' });
      if (body.client_id !== state.applicationId) return send(400, { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found.' });
      if (body.client_secret !== state.secret) return send(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      if (body.scope !== `${state.url}/.default`) return send(400, { error: 'invalid_scope', error_description: `AADSTS70011: bad scope ${String(body.scope)}` });
      const token = `arm-${randomUUID()}`;
      tokens.add(token);
      return send(200, { token_type: 'Bearer', expires_in: 3599, access_token: token });
    }
    if (!path.startsWith('/subscriptions/')) return armError(404, 'NotFound', `${req.method} ${path}`);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !tokens.has(token)) return armError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    const key = decodeURIComponent(path).toLowerCase();
    const expected = API_VERSIONS.find(([pattern]) => pattern.test(key))?.[1];
    if (!expected) return armError(400, 'InvalidResourceType', `Unknown resource type at ${path}`);
    if (url.searchParams.get('api-version') !== expected)
      return armError(400, 'InvalidApiVersionParameter', `The api-version '${url.searchParams.get('api-version')}' is invalid.`);
    const parent = key.split('/providers/')[0]!;
    if (!key.endsWith(parent) && !state.resources.has(parent)) return armError(404, 'ResourceGroupNotFound', `Resource group '${parent.split('/').pop()}' could not be found.`);

    if (req.method === 'GET') {
      const found = state.resources.get(key);
      if (!found) return armError(404, 'ResourceNotFound', `The Resource '${path.split('/').slice(-2).join('/')}' was not found.`);
      // ARM finishes a VM's creation between the PUT and the next GET.
      const properties = found.properties as Record<string, unknown> | undefined;
      if (properties?.provisioningState === 'Creating') properties.provisioningState = 'Succeeded';
      return send(200, found);
    }
    if (req.method === 'PUT') {
      if (state.refusePut && key.endsWith(state.refusePut.suffix)) return armError(state.refusePut.status, state.refusePut.code, state.refusePut.message);
      if (typeof body.location !== 'string') return armError(400, 'LocationRequired', 'The location property is required for this definition.');
      const properties = (body.properties ?? {}) as Record<string, unknown>;
      if (key.includes('/microsoft.network/networkinterfaces/')) {
        const subnet = String((((properties.ipConfigurations as any[])?.[0]?.properties?.subnet ?? {}) as { id?: string }).id ?? '').toLowerCase();
        if (!state.resources.has(subnet)) return armError(400, 'InvalidResourceReference', `Resource ${subnet} referenced by the network interface was not found.`);
      }
      if (key.includes('/microsoft.compute/virtualmachines/')) {
        const nic = String((properties.networkProfile as any)?.networkInterfaces?.[0]?.id ?? '').toLowerCase();
        if (!state.resources.has(nic)) return armError(400, 'InvalidResourceReference', `Network interface ${nic} was not found.`);
        const keys = (properties.osProfile as any)?.linuxConfiguration?.ssh?.publicKeys ?? [];
        if (!/^ssh-ed25519 /.test(String(keys[0]?.keyData))) return armError(400, 'InvalidParameter', 'An SSH public key is required.');
      }
      const created = !state.resources.has(key);
      const stored = { id: path, name: decodeURIComponent(path.split('/').pop()!), location: body.location, tags: body.tags, properties: { ...properties } };
      (stored.properties as Record<string, unknown>).provisioningState = key.includes('/virtualmachines/') ? 'Creating' : 'Succeeded';
      state.resources.set(key, stored);
      if (key.includes('/microsoft.network/virtualnetworks/') && !key.includes('/subnets/')) {
        for (const subnet of (properties.subnets as { name: string; properties: unknown }[] | undefined) ?? [])
          state.resources.set(`${key}/subnets/${subnet.name.toLowerCase()}`, { id: `${path}/subnets/${subnet.name}`, name: subnet.name, properties: subnet.properties });
      }
      return send(created ? 201 : 200, stored);
    }
    if (req.method === 'DELETE') {
      if (!state.resources.has(key)) return send(204);
      if (!key.includes('/providers/') && [...state.resources.keys()].some((k) => k !== key && k.startsWith(`${key}/`)))
        return armError(409, 'ResourceGroupNotEmpty', 'Test stand-in: delete the resources first.');
      for (const k of [...state.resources.keys()]) if (k === key || k.startsWith(`${key}/`)) state.resources.delete(k);
      return send(202);
    }
    return armError(405, 'MethodNotAllowed', String(req.method));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
