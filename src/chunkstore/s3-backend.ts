/**
 * A repository folder in an S3-compatible bucket. A PUT is atomic (an object
 * appears whole or not at all), so no temp key is needed
 * (docs/repository-format.md §1 "Writes").
 */
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { objectStorageClient } from '../storage/object-storage.js';
import type { ObjectStorageTarget } from '../storage/object-endpoint.js';
import { BlobNotFoundError, checkKey, type BlobBackend } from './backend.js';

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/** The store over an S3 client; keys live under `folder/` in `bucket`. The client is closed with the backend. */
export function s3Backend(client: S3Client, bucket: string, folder: string, options: { description?: string } = {}): BlobBackend {
  const prefix = folder ? `${folder.replace(/^\/+|\/+$/g, '')}/` : '';
  const where = options.description ?? `bucket "${bucket}"${prefix ? ` folder "${prefix.slice(0, -1)}"` : ''}`;
  const full = (key: string) => `${prefix}${checkKey(key)}`;

  const head = async (key: string) => {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }));
      return { key, size: out.ContentLength ?? 0, modifiedMs: out.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  };

  return {
    description: where,
    async put(key, data, signal) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: data, ContentLength: data.length }), { abortSignal: signal });
    },
    async putIfAbsent(key, data, signal) {
      // Content-addressed and create-only files: two writers racing write the same bytes (chunks) or
      // equivalent ones (config, key files: the loser re-reads); If-None-Match is not offered by every
      // S3-compatible service, so a HEAD decides.
      if (await head(key)) return false;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: data, ContentLength: data.length }), { abortSignal: signal });
      return true;
    },
    async get(key, range, signal) {
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: full(key), Range: range ? `bytes=${range.offset}-${range.offset + Math.max(range.length, 1) - 1}` : undefined }),
          { abortSignal: signal },
        );
        const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array(0));
        return range ? bytes.subarray(0, range.length) : bytes;
      } catch (err) {
        if (isMissing(err)) throw new BlobNotFoundError(key, where);
        throw err;
      }
    },
    head,
    async *list(keyPrefix) {
      let token: string | undefined;
      do {
        const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${keyPrefix}`, ContinuationToken: token }));
        for (const o of out.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          yield { key: o.Key.slice(prefix.length), size: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 };
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }));
    },
    async rename(from, to) {
      try {
        await client.send(new CopyObjectCommand({ Bucket: bucket, Key: full(to), CopySource: `${bucket}/${encodeURIComponent(full(from)).replace(/%2F/g, '/')}` }));
      } catch (err) {
        if (isMissing(err)) throw new BlobNotFoundError(from, where);
        throw err;
      }
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(from) }));
    },
    async touch(key) {
      // A copy onto itself renews LastModified on S3 (REPLACE is what it requires for a self-copy).
      // Some S3-compatible servers keep the old time (s3rver does): then the bytes are written again.
      const before = Date.now() - 1000;
      const source = `${bucket}/${encodeURIComponent(full(key)).replace(/%2F/g, '/')}`;
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: full(key), CopySource: source, MetadataDirective: 'REPLACE', Metadata: { touched: String(Date.now()) } }));
      const after = await head(key);
      if (after && after.modifiedMs < before) {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) }));
        const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: bytes, ContentLength: bytes.length }));
      }
    },
    async close() {
      client.destroy();
    },
  };
}

/** The backend of an object-storage repository (endpoint, bucket, folder, credentials as the repositories section builds them). */
export function openS3Backend(target: ObjectStorageTarget, options: { timeoutMs?: number } = {}): BlobBackend {
  return s3Backend(objectStorageClient(target, options.timeoutMs ?? 60_000), target.bucket, target.folder, {
    description: `bucket "${target.bucket}"${target.folder ? ` folder "${target.folder}"` : ''}${target.endpoint ? ` at ${target.endpoint}` : ''}`,
  });
}
