import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/**
 * A local stand-in for the Microsoft identity platform and Microsoft Graph,
 * speaking the same HTTP contract as far as Rampart uses it (device-code flow,
 * organization, applications, servicePrincipals, addPassword). It checks what
 * it is sent and records every call.
 */
export interface AzureStandIn {
  url: string;
  tenantId: string;
  calls: { method: string; path: string; body: Record<string, unknown>; authorization?: string }[];
  /** Secrets it handed out (to check they never reach a log). */
  issuedSecrets: string[];
  /** How many polls answer authorization_pending before the sign-in counts as done. */
  pendingPolls: number;
  /** User codes whose sign-in is declined. */
  declined: Set<string>;
  close(): Promise<void>;
}

/** A request body as Microsoft's endpoints take it: form-encoded (token requests) or JSON. */
export async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  if (String(req.headers['content-type']).includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  return JSON.parse(text) as Record<string, unknown>;
}

export async function startAzureStandIn(clientId: string): Promise<AzureStandIn> {
  const tenantId = randomUUID();
  const devices = new Map<string, { userCode: string; polls: number }>();
  const tokens = new Set<string>();
  const applications = new Map<string, string>();
  const state: AzureStandIn = { url: '', tenantId, calls: [], issuedSecrets: [], pendingPolls: 2, declined: new Set(), close: async () => undefined };
  let counter = 0;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const body = await bodyOf(req);
    state.calls.push({ method: req.method ?? '', path, body, authorization: req.headers.authorization });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const oauthError = (error: string, description: string) => send(400, { error, error_description: `${description}\r\nTrace ID: ${randomUUID()}` });
    if (req.method === 'POST' && path === '/organizations/oauth2/v2.0/devicecode') {
      if (body.client_id !== clientId) return oauthError('invalid_client', 'AADSTS700016: Application not found.');
      if (!String(body.scope).includes('https://graph.microsoft.com/.default')) return oauthError('invalid_scope', 'AADSTS70011: bad scope.');
      const userCode = `RMP${String(++counter).padStart(5, '0')}`;
      const deviceCode = `device-${randomUUID()}`;
      devices.set(deviceCode, { userCode, polls: 0 });
      return send(200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: 'https://microsoft.com/devicelogin',
        expires_in: 900,
        interval: 0,
        message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`,
      });
    }
    if (req.method === 'POST' && path === '/organizations/oauth2/v2.0/token') {
      if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:device_code') return oauthError('unsupported_grant_type', 'AADSTS70003: grant type.');
      if (body.client_id !== clientId) return oauthError('invalid_client', 'AADSTS700016: Application not found.');
      const device = devices.get(String(body.device_code));
      if (!device) return oauthError('bad_verification_code', 'AADSTS70019: unknown device code.');
      if (state.declined.has(device.userCode)) return oauthError('authorization_declined', 'AADSTS70000: The user declined.');
      if (device.polls++ < state.pendingPolls) return oauthError('authorization_pending', 'AADSTS70016: Pending end-user authorization.');
      devices.delete(String(body.device_code));
      const token = `graph-token-${randomUUID()}`;
      tokens.add(token);
      return send(200, { token_type: 'Bearer', scope: 'https://graph.microsoft.com/.default', expires_in: 3599, access_token: token, refresh_token: `refresh-${randomUUID()}` });
    }
    if (path.startsWith('/v1.0/')) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !tokens.has(token)) return send(401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' } });
      if (req.method === 'GET' && path === '/v1.0/organization') return send(200, { value: [{ id: tenantId, displayName: 'Contoso' }] });
      if (req.method === 'POST' && path === '/v1.0/applications') {
        if (typeof body.displayName !== 'string') return send(400, { error: { code: 'Request_BadRequest', message: 'displayName is required' } });
        const id = randomUUID();
        const appId = randomUUID();
        applications.set(id, appId);
        return send(201, { id, appId, displayName: body.displayName, signInAudience: body.signInAudience });
      }
      if (req.method === 'POST' && path === '/v1.0/servicePrincipals') {
        if (![...applications.values()].includes(String(body.appId))) return send(400, { error: { code: 'Request_BadRequest', message: 'unknown appId' } });
        return send(201, { id: randomUUID(), appId: body.appId });
      }
      const add = /^\/v1\.0\/applications\/([^/]+)\/addPassword$/.exec(path);
      if (req.method === 'POST' && add) {
        if (!applications.has(add[1])) return send(404, { error: { code: 'Request_ResourceNotFound', message: 'no such application' } });
        const secretText = `Gen~${randomUUID().replace(/-/g, '')}Sx`;
        state.issuedSecrets.push(secretText);
        return send(200, {
          keyId: randomUUID(),
          displayName: (body.passwordCredential as { displayName?: string })?.displayName,
          secretText,
          endDateTime: (body.passwordCredential as { endDateTime?: string })?.endDateTime,
        });
      }
    }
    send(404, { error: { code: 'NotFound', message: `${req.method} ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
