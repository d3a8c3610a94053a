import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLIC_GOOGLE_STORAGE_ENDPOINT, PUBLIC_WASABI_ENDPOINT } from './storage/object-endpoint.js';

/**
 * Typed configuration. Every key can come from the environment or from an
 * optional JSON config file (RAMPART_CONFIG_FILE) that uses the same key names;
 * the environment wins. Bad values stop start-up with a message naming the key.
 */
export interface RampartConfig {
  port: number;
  host: string;
  dataDir: string;
  /** `sqlite:<file>` when DATABASE_URL is unset, else the postgres URL. */
  databaseUrl: string;
  databaseKind: 'sqlite' | 'postgres';
  adminUser: string;
  adminPassword: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  authorizationCodeTtlSeconds: number;
  /** Failed logins per user name before each further attempt is slowed down (per address: three times as many, then attempts are spaced out). */
  loginSlowdownAfter: number;
  /** Sign-in attempts per user name checked against a password before the name is locked out (addresses are never locked). */
  loginLockoutAfter: number;
  loginLockoutSeconds: number;
  /** Upper bound for finishing in-flight requests on SIGTERM/SIGINT. */
  shutdownGraceSeconds: number;
  /** How often each node re-reads revocations written by other nodes or the CLI. */
  revocationPollMs: number;
  /** Days before `validBy` from which the serving certificate is reported as expiring. */
  certificateExpiryWarningDays: number;
  /** How long the previous certificate stays visible after a rotation. */
  certificateRotationGraceHours: number;
  bodyLimitBytes: number;
  /** Body limit of the automation import routes (a whole configuration is bigger than any other request). */
  importBodyLimitBytes: number;
  /** Base64 master key(s) from RAMPART_MASTER_KEY, current first; unset means `<dataDir>/master.key`. */
  masterKey: string | undefined;
  /** Overrides the Microsoft identity platform base URL for every Azure region (tests, sovereign clouds). */
  azureAuthorityUrl: string | undefined;
  /** Overrides the Microsoft Graph base URL for every Azure region. */
  azureGraphUrl: string | undefined;
  /** Overrides the Azure Resource Manager base URL for every Azure region (helper appliances). */
  azureManagementUrl: string | undefined;
  /** Public client that signs in with the device code to register Azure applications. */
  azureClientId: string;
  /** Bound on each TLS/SSH probe and SSH step towards a managed server (≤ 10 s: a probe never hangs longer). */
  probeTimeoutMs: number;
  /** Seconds between background measurements of every repository's capacity; 0 turns the periodic refresh off. */
  repositoryRefreshSeconds: number;
  /** Measurements in flight at once during a refresh (per host: a quarter of it, at least 1). */
  repositoryRefreshConcurrency: number;
  /** Bound on each request to a repository's host or service point, in checks and measurements. */
  repositoryTimeoutMs: number;
  /** The AUTH_SYS identity Rampart's NFS client presents to Nfs repositories (RAMPART_NFS_UID/GID; root by default). */
  nfsIdentity: { uid: number; gid: number };
  /** Garbage collection after retention deletes nothing written more recently than this before the oldest running backup (clock skew between nodes and storage). */
  gcGraceSeconds: number;
  /**
   * Test only (RAMPART_TEST_IMMUTABILITY_SECONDS): immutable repositories keep
   * new restore points immutable for this many seconds instead of their days,
   * so a test can let the period pass. Refused unless NODE_ENV is "test".
   */
  testImmutabilitySeconds?: number;
  /** Where WasabiCloud repositories are reached: a URL template, `{region}` = the repository's region; undefined = Wasabi's public endpoints. */
  wasabiEndpoint: string | undefined;
  /** PEM file of extra roots trusted for the SMTP server's certificate (a private CA); unset = the system's. */
  smtpCaFile: string | undefined;
  /** Seconds from connect to a finished TLS handshake before the connection is dropped. */
  tlsHandshakeTimeoutSeconds: number;
  /** Seconds from a request's first byte to its last header (408 after). */
  headersTimeoutSeconds: number;
  /** Seconds from a request's first byte to its last body byte (408 after). */
  requestTimeoutSeconds: number;
  /** Open connections in all; more are closed at once. */
  maxConnections: number;
  /** Open connections from one client address; more are closed at once. */
  maxConnectionsPerAddress: number;
  /** Where GoogleCloud repositories are reached (S3 interoperability API); undefined = Google's public endpoint. */
  googleStorageEndpoint: string | undefined;
  /**
   * This machine's NFS server as ESXi hosts reach it (RAMPART_IR_NFS_HOST, RAMPART_IR_NFS_VERSION):
   * instant recovery then asks hosts to mount `<host>:<staging folder>`; unset, the folder's local
   * path is sent (the vSphere simulator).
   */
  instantRecoveryNfs: { host: string; version: 3 | 4 } | undefined;
}

export class ConfigError extends Error {}

type Source = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function readConfigFile(env: Source): Source {
  const file = env.RAMPART_CONFIG_FILE;
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`RAMPART_CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`RAMPART_CONFIG_FILE: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`RAMPART_CONFIG_FILE: ${file} must hold a JSON object of KEY: value pairs`);
  }
  const out: Source = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!/^(RAMPART_|DATABASE_URL$)/.test(key)) {
      throw new ConfigError(`RAMPART_CONFIG_FILE: unknown key "${key}" (keys are the environment variable names, e.g. RAMPART_PORT)`);
    }
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

function baseUrl(src: Source, key: string): string | undefined {
  const raw = src[key]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${key}: "${raw}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${key}: must be an http:// or https:// URL`);
  if (url.search || url.hash) throw new ConfigError(`${key}: must be a base URL without query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

/**
 * An S3 endpoint that replaces a public one: a base URL (http or https, no query,
 * no user name); with `region`, it may hold `{region}` (host or path), the only
 * placeholder. Undefined when unset or set to the public endpoint itself (a key set to
 * the public endpoint is no override).
 */
function endpointOverride(src: Source, key: string, fallback: string, region: boolean): string | undefined {
  const raw = src[key]?.trim();
  if (!raw) return undefined;
  if (/[{}]/.test(region ? raw.replaceAll('{region}', '') : raw)) {
    throw new ConfigError(region ? `${key}: "${raw}" has a placeholder other than {region}, the only one there is` : `${key}: "${raw}" must be a URL without placeholders`);
  }
  const parse = (url: string) => new URL(url.replaceAll('{region}', 'us-east-1'));
  let url: URL;
  try {
    url = parse(raw);
  } catch {
    throw new ConfigError(`${key}: "${raw}" is not a URL (e.g. ${fallback})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${key}: "${raw}" must be an http:// or https:// URL`);
  if (url.search || url.hash) throw new ConfigError(`${key}: "${raw}" must be a base URL without query or fragment`);
  if (url.username || url.password) throw new ConfigError(`${key}: must not hold a user name or password (the cloud credentials sign each request)`);
  const normal = (u: URL) => u.toString().replace(/\/+$/, '');
  return normal(url) === normal(parse(fallback)) ? undefined : raw.replace(/\/+$/, '');
}

function masterKeys(src: Source): string | undefined {
  const raw = src.RAMPART_MASTER_KEY?.trim();
  if (!raw) return undefined;
  raw.split(',').forEach((part, i) => {
    const bytes = /^[A-Za-z0-9+/=_-]+$/.test(part.trim()) ? Buffer.from(part.trim(), 'base64').length : 0;
    if (bytes !== 32) throw new ConfigError(`RAMPART_MASTER_KEY: key ${i + 1} must be 32 bytes in base64 (e.g. from: openssl rand -base64 32)`);
  });
  return raw;
}

/** Default: the Azure CLI's public client id, which Microsoft lets any tool use for device-code sign-in. */
function azureClientId(src: Source): string {
  const raw = src.RAMPART_AZURE_CLIENT_ID?.trim() || '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) throw new ConfigError('RAMPART_AZURE_CLIENT_ID: must be an application (client) id, a uuid');
  return raw;
}

/** Days cannot be waited in a test; a shorter period must never reach a real installation. */
function testImmutability(src: Source): { testImmutabilitySeconds?: number } {
  const raw = src.RAMPART_TEST_IMMUTABILITY_SECONDS;
  if (raw === undefined || raw === '') return {};
  const mode = src.NODE_ENV ?? process.env.NODE_ENV;
  if (mode !== 'test')
    throw new ConfigError(
      `RAMPART_TEST_IMMUTABILITY_SECONDS: a test-only setting (it shortens how long backups stay immutable); refused unless NODE_ENV is "test" (it is ${mode ? `"${mode}"` : 'unset'})`,
    );
  return { testImmutabilitySeconds: integer(src, 'RAMPART_TEST_IMMUTABILITY_SECONDS', 0, 1, 86_400) };
}

function integer(src: Source, key: string, fallback: number, min: number, max: number): number {
  const raw = src[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${key}: "${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${key}: ${n} is out of range (${min}..${max})`);
  return n;
}

export function loadConfig(env: Source = process.env): RampartConfig {
  const src: Source = { ...readConfigFile(env), ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
  const dataDir = path.resolve(src.RAMPART_DATA_DIR || './data');
  const logLevel = (src.RAMPART_LOG_LEVEL || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`RAMPART_LOG_LEVEL: "${src.RAMPART_LOG_LEVEL}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const dbUrl = src.DATABASE_URL?.trim();
  let databaseKind: 'sqlite' | 'postgres' = 'sqlite';
  let databaseUrl = `sqlite:${path.join(dataDir, 'rampart.sqlite')}`;
  if (dbUrl) {
    if (/^postgres(ql)?:\/\//i.test(dbUrl)) {
      databaseKind = 'postgres';
      databaseUrl = dbUrl;
    } else if (/^sqlite:/i.test(dbUrl)) {
      databaseUrl = `sqlite:${path.resolve(dbUrl.slice('sqlite:'.length))}`;
    } else {
      throw new ConfigError('DATABASE_URL: must start with postgres:// (or sqlite:<file>); leave it unset for the embedded SQLite database');
    }
  }
  const host = src.RAMPART_HOST?.trim() || '::';
  const adminUser = src.RAMPART_ADMIN_USER?.trim() || 'administrator';
  if (!/^[A-Za-z0-9._@\\-]{1,128}$/.test(adminUser)) throw new ConfigError(`RAMPART_ADMIN_USER: "${adminUser}" is not a valid user name`);
  const adminPassword = src.RAMPART_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('RAMPART_ADMIN_PASSWORD: must be at least 8 characters');
  }
  const accessTokenTtlSeconds = integer(src, 'RAMPART_ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86_400);
  const headersTimeoutSeconds = integer(src, 'RAMPART_HEADERS_TIMEOUT_SECONDS', 10, 1, 300);
  const requestTimeoutSeconds = integer(src, 'RAMPART_REQUEST_TIMEOUT_SECONDS', 60, 1, 3600);
  if (requestTimeoutSeconds < headersTimeoutSeconds) throw new ConfigError('RAMPART_REQUEST_TIMEOUT_SECONDS: must be at least RAMPART_HEADERS_TIMEOUT_SECONDS');
  return {
    port: integer(src, 'RAMPART_PORT', 9419, 0, 65_535),
    host,
    dataDir,
    databaseUrl,
    databaseKind,
    adminUser,
    adminPassword,
    logLevel: logLevel as RampartConfig['logLevel'],
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds: integer(src, 'RAMPART_REFRESH_TOKEN_TTL_SECONDS', 14 * 86_400, accessTokenTtlSeconds, 365 * 86_400),
    authorizationCodeTtlSeconds: integer(src, 'RAMPART_AUTHORIZATION_CODE_TTL_SECONDS', 300, 10, 3600),
    loginSlowdownAfter: integer(src, 'RAMPART_LOGIN_SLOWDOWN_AFTER', 3, 1, 1000),
    loginLockoutAfter: integer(src, 'RAMPART_LOGIN_LOCKOUT_AFTER', 10, 1, 1000),
    loginLockoutSeconds: integer(src, 'RAMPART_LOGIN_LOCKOUT_SECONDS', 900, 1, 86_400),
    shutdownGraceSeconds: integer(src, 'RAMPART_SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    revocationPollMs: integer(src, 'RAMPART_REVOCATION_POLL_MS', 500, 50, 1000),
    certificateExpiryWarningDays: integer(src, 'RAMPART_CERT_EXPIRY_WARNING_DAYS', 30, 0, 3650),
    certificateRotationGraceHours: integer(src, 'RAMPART_CERT_ROTATION_GRACE_HOURS', 168, 0, 87_600),
    bodyLimitBytes: integer(src, 'RAMPART_BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    importBodyLimitBytes: integer(src, 'RAMPART_IMPORT_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    masterKey: masterKeys(src),
    azureAuthorityUrl: baseUrl(src, 'RAMPART_AZURE_AUTHORITY_URL'),
    azureGraphUrl: baseUrl(src, 'RAMPART_AZURE_GRAPH_URL'),
    azureManagementUrl: baseUrl(src, 'RAMPART_AZURE_MANAGEMENT_URL'),
    azureClientId: azureClientId(src),
    probeTimeoutMs: integer(src, 'RAMPART_PROBE_TIMEOUT_MS', 10_000, 50, 10_000),
    repositoryRefreshSeconds: integer(src, 'RAMPART_REPOSITORY_REFRESH_SECONDS', 300, 0, 86_400),
    repositoryRefreshConcurrency: integer(src, 'RAMPART_REPOSITORY_REFRESH_CONCURRENCY', 32, 1, 1024),
    repositoryTimeoutMs: integer(src, 'RAMPART_REPOSITORY_TIMEOUT_MS', 10_000, 100, 120_000),
    nfsIdentity: { uid: integer(src, 'RAMPART_NFS_UID', 0, 0, 4_294_967_294), gid: integer(src, 'RAMPART_NFS_GID', 0, 0, 4_294_967_294) },
    gcGraceSeconds: integer(src, 'RAMPART_GC_GRACE_SECONDS', 3600, 0, 7 * 86_400),
    ...testImmutability(src),
    wasabiEndpoint: endpointOverride(src, 'RAMPART_WASABI_ENDPOINT', PUBLIC_WASABI_ENDPOINT, true),
    tlsHandshakeTimeoutSeconds: integer(src, 'RAMPART_TLS_HANDSHAKE_TIMEOUT_SECONDS', 10, 1, 120),
    headersTimeoutSeconds,
    requestTimeoutSeconds,
    maxConnections: integer(src, 'RAMPART_MAX_CONNECTIONS', 4096, 1, 1_000_000),
    maxConnectionsPerAddress: integer(src, 'RAMPART_MAX_CONNECTIONS_PER_ADDRESS', 256, 1, 1_000_000),
    smtpCaFile: src.RAMPART_SMTP_CA_FILE?.trim() || undefined,
    googleStorageEndpoint: endpointOverride(src, 'RAMPART_GOOGLE_STORAGE_ENDPOINT', PUBLIC_GOOGLE_STORAGE_ENDPOINT, false),
    instantRecoveryNfs: instantRecoveryNfs(src),
  };
}

function instantRecoveryNfs(src: Source): RampartConfig['instantRecoveryNfs'] {
  const host = src.RAMPART_IR_NFS_HOST?.trim();
  const versionText = src.RAMPART_IR_NFS_VERSION?.trim() || '3';
  if (versionText !== '3' && versionText !== '4') throw new ConfigError(`RAMPART_IR_NFS_VERSION: "${versionText}" is not 3 or 4`);
  if (!host) return undefined;
  // A host name or an IPv4/IPv6 address, as ESXi's CreateNasDatastore takes it.
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host)) throw new ConfigError(`RAMPART_IR_NFS_HOST: "${host}" is not a host name or an IP address`);
  return { host, version: versionText === '4' ? 4 : 3 };
}
