import { ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** A bucket and its top-level folders, as the cloud browser shows them. */
export interface BrowsedBucket {
  name: string;
  folders: string[];
}

/** Pages of a listing followed at most this far (1000 keys a page): a huge bucket cannot hold a request forever. */
const MAX_PAGES = 100;

/** Every bucket the credentials can list (all pages), optionally only the one named `bucketName`. */
export async function listBuckets(client: S3Client, signal: AbortSignal, bucketName?: string): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.send(new ListBucketsCommand({ ContinuationToken: token }), { abortSignal: signal });
    for (const b of res.Buckets ?? []) if (b.Name && (bucketName === undefined || b.Name === bucketName)) names.push(b.Name);
    token = res.ContinuationToken;
    if (!token) break;
  }
  return names.sort();
}

/** The bucket's top-level folders (common prefixes under `/`), following every page of the listing. */
export async function listFolders(client: S3Client, bucket: string, signal: AbortSignal): Promise<string[]> {
  const folders: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/', ContinuationToken: token }), { abortSignal: signal });
    for (const p of res.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix.replace(/\/$/, ''));
    if (!res.IsTruncated || !res.NextContinuationToken) break;
    token = res.NextContinuationToken;
  }
  return folders;
}

/**
 * Creates a folder the way S3 consoles do: an empty object whose key ends with `/`, so the
 * folder shows in listings before anything is written under it.
 */
export async function createFolder(client: S3Client, bucket: string, folder: string, signal: AbortSignal): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${folder}/`, Body: new Uint8Array(0) }), { abortSignal: signal });
}
