/**
 * The console's only way to the server: the public API, with the access token held in
 * memory (never in a URL, localStorage or a cookie), refreshed silently before it expires.
 */

export const VBR_VERSION = '1.1-rev0';
export const VBA_VERSION = '1.0-rev0';

/** An error as the API words it: `{errorCode, message, resourceId?}`, or Backup for AWS' problem shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly resourceId?: string,
  ) {
    super(message);
  }
}

export interface Page<T> {
  data: T[];
  pagination: { total: number; count: number; skip: number; limit: number };
}

interface Tokens {
  access: string;
  refresh: string;
  userName: string;
}

let tokens: Tokens | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | undefined;
let onLapsed: () => void = () => undefined;

export const signedInUser = (): string | undefined => tokens?.userName;
export const isSignedIn = (): boolean => tokens !== undefined;
/** Called when the login lapsed (refresh refused): the console goes to the login page and back. */
export const whenSessionLapses = (handler: () => void): void => {
  onLapsed = handler;
};

const UNREACHABLE =
  'The server could not be reached. If its certificate was just replaced, reload the page: the browser will ask you to trust the new certificate (compare its thumbprint first).';

async function errorFrom(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page?): the status line is all there is to say.
  }
  const message = String(body.message ?? body.details ?? body.title ?? body.error_description ?? `${res.status} ${res.statusText}`);
  return new ApiError(res.status, String(body.errorCode ?? body.error ?? 'UnknownError'), message, typeof body.resourceId === 'string' ? body.resourceId : undefined);
}

async function send(input: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'Unreachable', UNREACHABLE);
  }
}

function schedule(expiresInSeconds: number): void {
  clearTimeout(refreshTimer);
  // Refresh at 80% of the lifetime (at least 5 s ahead), so no call ever carries an expired token.
  const ms = Math.max(1000, Math.min(expiresInSeconds * 800, (expiresInSeconds - 5) * 1000));
  refreshTimer = setTimeout(() => void refreshNow(), ms);
}

async function tokenCall(form: Record<string, string>, userName: string): Promise<void> {
  const res = await send('/api/oauth2/token', {
    method: 'POST',
    headers: { 'x-api-version': VBR_VERSION, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  if (!res.ok) throw await errorFrom(res);
  const body = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number; userName?: string };
  tokens = { access: body.access_token, refresh: body.refresh_token, userName: body.userName ?? userName };
  schedule(body.expires_in);
}

/** OAuth2 password grant; a wrong password or a lockout throws the API's own message. */
export async function signIn(userName: string, password: string): Promise<void> {
  await tokenCall({ grant_type: 'password', username: userName, password }, userName);
}

/** Refresh-token grant; false (and signed out) when the server refuses it. */
export function refreshNow(): Promise<boolean> {
  if (!tokens) return Promise.resolve(false);
  refreshing ??= (async () => {
    const current = tokens!;
    try {
      await tokenCall({ grant_type: 'refresh_token', refresh_token: current.refresh }, current.userName);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) return false;
      tokens = undefined;
      clearTimeout(refreshTimer);
      onLapsed();
      return false;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export async function signOut(): Promise<void> {
  const current = tokens;
  tokens = undefined;
  clearTimeout(refreshTimer);
  if (!current) return;
  await send('/api/oauth2/logout', { method: 'POST', headers: { 'x-api-version': VBR_VERSION, authorization: `Bearer ${current.access}` } }).catch(() => undefined);
}

export interface CallOptions {
  json?: unknown;
  form?: FormData;
  version?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Extra headers (e.g. a sealed export's passphrase, which must never be in a URL or a body). */
  headers?: Record<string, string>;
}

/** One API call with the current token; on 401 it refreshes once and retries. */
export async function call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  let url = path;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) if (value !== undefined && value !== '') params.set(key, String(value));
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const attempt = () => {
    // Rampart's own fields (when the capacity figures were measured, the product version) beside the documented ones.
    const headers: Record<string, string> = { ...options.headers, 'x-api-version': options.version ?? VBR_VERSION, accept: 'application/json', 'x-rampart-extras': 'true' };
    if (tokens) headers.authorization = `Bearer ${tokens.access}`;
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    return send(url, { method, headers, body });
  };
  let res = await attempt();
  if (res.status === 401 && tokens && (await refreshNow())) res = await attempt();
  if (res.status === 401 && !path.startsWith('/api/oauth2/')) {
    tokens = undefined;
    onLapsed();
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, query?: CallOptions['query'], version?: string) => call<T>('GET', path, { query, version });
export const post = <T>(path: string, json?: unknown, version?: string) => call<T>('POST', path, { json: json ?? {}, version });
export const put = <T>(path: string, json: unknown, version?: string) => call<T>('PUT', path, { json, version });
export const del = <T>(path: string, query?: CallOptions['query']) => call<T>('DELETE', path, { query });

/** GET that answers undefined on 404: for sections this server may not have yet. */
export async function getIfPresent<T>(path: string, query?: CallOptions['query']): Promise<T | undefined> {
  try {
    return await get<T>(path, query);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}
