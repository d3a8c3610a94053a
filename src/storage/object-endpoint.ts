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

export const wasabiEndpoint = (regionId: string) => `https://s3.${regionId}.wasabisys.com`;
/** Google Cloud Storage through its S3 interoperability API (HMAC keys). */
export const googleEndpoint = () => 'https://storage.googleapis.com';

export function normalizeFolder(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}
