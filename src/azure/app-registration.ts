import { endpointsFor, type AzureEndpoints, type AzureRegion } from './endpoints.js';

/** A failure the administrator can act on; the message holds no token or secret. */
export class AzureRegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AzureRegistrationError';
  }
}

export interface AzureRegistrationSettings extends Partial<AzureEndpoints> {
  /** Public client that signs in with the device code. */
  clientId: string;
  /** Tenant segment of the authority URL: `organizations` lets any work account sign in. */
  tenant?: string;
  /** Upper bound for waiting on the user to finish signing in, per call. */
  maxWaitMs?: number;
}

export interface DeviceCodeGrant {
  url: string;
  verificationCode: string;
  expiresAt: Date;
}

export interface RegisteredApplication {
  tenantId: string;
  applicationId: string;
  /** The client secret: shown once to the caller, or sealed at once. Never logged. */
  secret: string;
}

interface Pending {
  deviceCode: string;
  region: AzureRegion;
  endpoints: AzureEndpoints;
  expiresAt: number;
  intervalMs: number;
}

type Json = Record<string, unknown>;

const SCOPE = 'https://graph.microsoft.com/.default offline_access';

/**
 * Registers a Microsoft Entra ID (Azure AD) application the way Veeam's
 * "Get Verification Code" / "Register Azure AD Application" calls do:
 *
 * 1. POST {authority}/{tenant}/oauth2/v2.0/devicecode → a user code and URL
 *    the administrator signs in at;
 * 2. POST {authority}/{tenant}/oauth2/v2.0/token with the device-code grant,
 *    polled while the sign-in is pending;
 * 3. with that token, Microsoft Graph: read the tenant (GET /v1.0/organization),
 *    create the application (POST /v1.0/applications), its service principal
 *    (POST /v1.0/servicePrincipals) and a client secret
 *    (POST /v1.0/applications/{id}/addPassword).
 *
 * Pending device codes live in this process's memory for their 15 minutes.
 */
export class AzureAppRegistration {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly settings: AzureRegistrationSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async requestDeviceCode(region: AzureRegion): Promise<DeviceCodeGrant> {
    this.forgetExpired();
    const endpoints = endpointsFor(region, this.settings);
    const body = await this.form(`${this.authority(endpoints)}/devicecode`, { client_id: this.settings.clientId, scope: SCOPE });
    if (body.status !== 200) throw new AzureRegistrationError(`The Microsoft identity platform refused the device code request: ${oauthError(body.json)}.`);
    const { device_code: deviceCode, user_code: userCode, verification_uri: uri, expires_in: expiresIn, interval } = body.json;
    if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof uri !== 'string') {
      throw new AzureRegistrationError('The Microsoft identity platform answered the device code request without a code.');
    }
    const expiresAt = Date.now() + (Number(expiresIn) || 900) * 1000;
    this.pending.set(userCode, { deviceCode, region, endpoints, expiresAt, intervalMs: pollSeconds(interval) * 1000 });
    return { url: uri, verificationCode: userCode, expiresAt: new Date(expiresAt) };
  }

  /** Redeems a verification code (after the administrator signed in) and creates the application. */
  async register(verificationCode: string): Promise<RegisteredApplication & { region: AzureRegion }> {
    this.forgetExpired();
    const pending = this.pending.get(verificationCode);
    if (!pending) {
      throw new AzureRegistrationError(
        `The verification code "${verificationCode.slice(0, 32)}" is unknown or expired; request a new one with POST /api/v1/cloudCredentials/appRegistration.`,
      );
    }
    const accessToken = await this.redeem(pending, verificationCode);
    // The code is single-use from here on: a retry after a Graph failure needs a fresh sign-in.
    this.pending.delete(verificationCode);
    const graph = `${pending.endpoints.graphUrl}/v1.0`;
    const organization = await this.graph('GET', `${graph}/organization`, accessToken);
    const tenantId = (organization.value as Json[] | undefined)?.[0]?.id;
    if (typeof tenantId !== 'string') throw new AzureRegistrationError('Microsoft Graph did not tell which tenant the account belongs to.');
    const application = await this.graph('POST', `${graph}/applications`, accessToken, {
      displayName: `Rampart backup server ${new Date().toISOString().slice(0, 10)}`,
      signInAudience: 'AzureADMyOrg',
    });
    if (typeof application.id !== 'string' || typeof application.appId !== 'string') throw new AzureRegistrationError('Microsoft Graph created no application.');
    await this.graph('POST', `${graph}/servicePrincipals`, accessToken, { appId: application.appId });
    const endDateTime = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString();
    const password = await this.graph('POST', `${graph}/applications/${encodeURIComponent(application.id)}/addPassword`, accessToken, {
      passwordCredential: { displayName: 'Rampart', endDateTime },
    });
    if (typeof password.secretText !== 'string') throw new AzureRegistrationError('Microsoft Graph created no client secret.');
    return { tenantId, applicationId: application.appId, secret: password.secretText, region: pending.region };
  }

  private async redeem(pending: Pending, verificationCode: string): Promise<string> {
    const deadline = Math.min(pending.expiresAt, Date.now() + (this.settings.maxWaitMs ?? 60_000));
    let intervalMs = pending.intervalMs;
    for (;;) {
      const body = await this.form(`${this.authority(pending.endpoints)}/token`, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: this.settings.clientId,
        device_code: pending.deviceCode,
      });
      if (body.status === 200 && typeof body.json.access_token === 'string') return body.json.access_token;
      const error = String(body.json.error ?? '');
      if (error === 'authorization_pending' || error === 'slow_down') {
        if (error === 'slow_down') intervalMs += 5000;
        if (Date.now() + intervalMs > deadline) {
          throw new AzureRegistrationError(`Nobody has signed in with the verification code "${verificationCode}" yet; sign in at the verification URL, then call this again.`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(intervalMs, 50)));
        continue;
      }
      this.pending.delete(verificationCode);
      if (error === 'expired_token') throw new AzureRegistrationError('The verification code has expired; request a new one.');
      if (error === 'authorization_declined') throw new AzureRegistrationError('The sign-in was declined.');
      throw new AzureRegistrationError(`The Microsoft identity platform refused the sign-in: ${oauthError(body.json)}.`);
    }
  }

  private authority(endpoints: AzureEndpoints): string {
    return `${endpoints.authorityUrl}/${encodeURIComponent(this.settings.tenant ?? 'organizations')}/oauth2/v2.0`;
  }

  private async form(url: string, fields: Record<string, string>): Promise<{ status: number; json: Json }> {
    const res = await this.call(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    return { status: res.status, json: await jsonOf(res) };
  }

  private async graph(method: string, url: string, token: string, body?: Json): Promise<Json> {
    const res = await this.call(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await jsonOf(res);
    if (res.status < 200 || res.status >= 300) {
      const err = json.error as Json | undefined;
      throw new AzureRegistrationError(
        `Microsoft Graph refused ${method} ${new URL(url).pathname}: ${String(err?.code ?? res.status)}${err?.message ? ` (${String(err.message).slice(0, 300)})` : ''}.`,
      );
    }
    return json;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new AzureRegistrationError(`Cannot reach ${new URL(url).origin}: ${(err as Error).message}.`);
    }
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [code, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(code);
  }
}

/** Microsoft's poll interval (5 s when absent); 0 is honoured, as a stand-in may send it. */
function pollSeconds(interval: unknown): number {
  const n = Number(interval);
  return interval === undefined || interval === null || !Number.isFinite(n) || n < 0 ? 5 : n;
}

async function jsonOf(res: Response): Promise<Json> {
  try {
    const value = (await res.json()) as unknown;
    return value && typeof value === 'object' ? (value as Json) : {};
  } catch {
    return {};
  }
}

/** `invalid_client (AADSTS7000218: …)`: Microsoft's code and the first line of its description. */
function oauthError(json: Json): string {
  const code = typeof json.error === 'string' ? json.error : 'unknown error';
  const description = typeof json.error_description === 'string' ? json.error_description.split(/\r?\n/)[0].slice(0, 300) : '';
  return description ? `${code} (${description})` : code;
}
