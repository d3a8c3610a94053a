import { Agent, FormData, fetch as undiciFetch, request as undiciRequest } from 'undici';
import { assertConforms } from './conformance.js';

export { FormData };

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** `null` sends no x-api-version header at all. */
  version?: string | null;
  headers?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  rawBody?: string | Buffer;
  /**
   * Why this reply's status is one Veeam's document does not list (a deliberate deviation,
   * named in the README); the body is then not checked against the document.
   */
  undocumented?: string;
}

/** A real HTTPS client for the server under test (it trusts the server's self-signed certificate). */
export class ApiClient {
  readonly agent: Agent;
  /**
   * Also fail on reply properties Veeam's document does not have (strict generated clients
   * refuse them). Opt-in per test file while sections are brought in line;
   * RAMPART_CONFORMANCE_STRICT=1 turns it on everywhere (to see what is left).
   */
  strict = process.env.RAMPART_CONFORMANCE_STRICT === '1';

  constructor(
    readonly baseUrl: string,
    agentOptions: ConstructorParameters<typeof Agent>[0] = {},
  ) {
    this.agent = new Agent({ connect: { rejectUnauthorized: false }, ...agentOptions });
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.version !== null) headers['x-api-version'] ??= options.version ?? '1.1-rev0';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined = options.rawBody;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }
    const res = await undiciRequest(new URL(path, this.baseUrl), { method: method as any, headers, body, dispatcher: this.agent });
    const text = await res.body.text();
    let parsed: unknown = text;
    if (text && String(res.headers['content-type'] ?? '').includes('json')) parsed = JSON.parse(text);
    // A client that asks for Rampart's own fields gets them: the strict check is for those that do not.
    const strict = this.strict && headers['x-rampart-extras'] !== 'true';
    if (!options.undocumented) assertConforms(method, path, headers['x-api-version'], res.statusCode, parsed, text, strict);
    return { status: res.statusCode, headers: res.headers as ApiResponse['headers'], body: parsed as T, text };
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('POST', path, options);
  }

  /** Password grant; returns the TokenModel body. */
  async login(username: string, password: string): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
    const res = await this.post('/api/oauth2/token', { form: { grant_type: 'password', username, password } });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body;
  }

  /** Sends multipart/form-data (file uploads). */
  async postForm<T = any>(path: string, form: FormData, options: { token?: string; version?: string; undocumented?: string } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { 'x-api-version': options.version ?? '1.0-rev0' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await undiciFetch(new URL(path, this.baseUrl), { method: 'POST', body: form, headers, dispatcher: this.agent });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    const body = text && contentType.includes('json') ? JSON.parse(text) : text;
    if (!options.undocumented) assertConforms('POST', path, headers['x-api-version'], res.status, body, text, this.strict);
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: body as T, text };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
