/**
 * Where an S3-protocol repository lives and how to sign in to it. Built by the
 * repositories section from the repository's account/bucket settings and its
 * cloud credentials; the secret key stays in this object (never logged).
 */
export interface ObjectStorageTarget {
  /** Full URL of the service point; undefined means the SDK's default for the region (Amazon S3). */
  endpoint?: string;
  region: string;
  bucket: string;
  /** The repository folder inside the bucket, without leading or trailing slashes. */
  folder: string;
  accessKey: string;
  secretKey: string;
  /** Path-style addressing (`https://host/bucket/key`): what S3-compatible appliances expect. */
  forcePathStyle: boolean;
}

/** "s3.example.com:9000" and "https://s3.example.com" both name a service point; a bare host means HTTPS. */
export function servicePointUrl(servicePoint: string): string {
  const trimmed = servicePoint.trim().replace(/\/+$/, '');
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`the service point "${servicePoint}" must be an http(s) address`);
  return parsed.origin;
}

/** Endpoints of the public clouds that speak S3, by the repository type that names them. */
export function amazonEndpoint(regionId: string, regionType: string): string | undefined {
  if (regionType === 'China') return `https://s3.${regionId}.amazonaws.com.cn`;
  return undefined;
}

/**
 * Replacements for the public endpoints of WasabiCloud and GoogleCloud
 * repositories (RAMPART_WASABI_ENDPOINT, RAMPART_GOOGLE_STORAGE_ENDPOINT: a
 * private endpoint, a gateway, a local stand-in); undefined = the public one.
 */
export interface PublicCloudEndpoints {
  /** URL template; `{region}` is replaced by the repository's region id. */
  wasabi?: string | undefined;
  google?: string | undefined;
}

type Endpoint = Pick<ObjectStorageTarget, 'endpoint' | 'forcePathStyle'>;

/** The public endpoints (`{region}` = the repository's region id); the config keys replace them. */
export const PUBLIC_WASABI_ENDPOINT = 'https://s3.{region}.wasabisys.com';
export const PUBLIC_GOOGLE_STORAGE_ENDPOINT = 'https://storage.googleapis.com';

/**
 * Wasabi: `https://s3.<region>.wasabisys.com`, addressed virtual-host style as
 * Wasabi documents. An override is addressed path style: a private endpoint or
 * gateway need not have a DNS name for every bucket, and the public services
 * accept path style too.
 */
export function wasabiEndpoint(regionId: string, template?: string): Endpoint {
  // The region goes into a host name (or a path): only the characters a region id has.
  if (!/^[A-Za-z0-9-]{1,64}$/.test(regionId)) throw new Error(`"${regionId}" is not a region id such as us-east-1`);
  return { endpoint: (template ?? PUBLIC_WASABI_ENDPOINT).replaceAll('{region}', regionId), forcePathStyle: template !== undefined };
}

/** Google Cloud Storage through its S3 interoperability API (HMAC keys); an override is addressed path style, as for Wasabi. */
export function googleEndpoint(override?: string): Endpoint {
  return { endpoint: override ?? PUBLIC_GOOGLE_STORAGE_ENDPOINT, forcePathStyle: override !== undefined };
}

export function normalizeFolder(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}
