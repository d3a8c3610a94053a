/**
 * A repository folder in an S3-compatible bucket. A PUT is atomic (an object
 * appears whole or not at all), so no temp key is needed
 * (docs/repository-format.md §1 "Writes").
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { objectStorageClient } from '../storage/object-storage.js';
import type { ObjectStorageTarget } from '../storage/object-endpoint.js';
import { BlobNotFoundError, checkKey, isRetainedKey, type BlobBackend, type BlobRetention } from './backend.js';
import { ChunkStoreError } from './errors.js';

/** PutObjectRetention has no batch form in S3: a batch is this many calls at once. */
const RETENTION_CONCURRENCY = 16;
const DAY_MS = 86_400_000;

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * The store over an S3 client; keys live under `folder/` in `bucket`. The client is closed with the backend.
 * With `immutableDays` (the repository's bucket.immutability), chunks, indexes and manifests are written with
 * COMPLIANCE object-lock retention through the SDK's own parameters; the bucket must have object lock on.
 */
export function s3Backend(client: S3Client, bucket: string, folder: string, options: { description?: string; immutableDays?: number } = {}): BlobBackend {
  const prefix = folder ? `${folder.replace(/^\/+|\/+$/g, '')}/` : '';
  const where = options.description ?? `bucket "${bucket}"${prefix ? ` folder "${prefix.slice(0, -1)}"` : ''}`;
  const full = (key: string) => `${prefix}${checkKey(key)}`;
  const days = options.immutableDays;
  const lockFor = (key: string) =>
    days !== undefined && isRetainedKey(key) ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: new Date(Date.now() + days * DAY_MS) } : {};
  const retainedUntil = async (key: string): Promise<Date | undefined> => {
    try {
      const out = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: full(key) }));
      return out.Retention?.RetainUntilDate;
    } catch (err) {
      // No retention on the object (or the object is gone): nothing holds it.
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (isMissing(err) || e.name === 'NoSuchObjectLockConfiguration' || e.name === 'ObjectLockConfigurationNotFoundError') return undefined;
      throw err;
    }
  };
  const immutableError = (key: string, until: Date | undefined, byStorage: boolean) =>
    new ChunkStoreError(
      'Immutable',
      `${key} in the ${where} is immutable${until ? ` until ${until.toISOString()}` : ''} (S3 object lock, COMPLIANCE mode${byStorage ? '; the storage refused the delete' : ''}); it can be deleted only after that date.`,
    );
  const setRetention = async (key: string, until: Date) => {
    const current = await retainedUntil(key);
    // COMPLIANCE retention can only grow: asking for an earlier date is an error on the storage.
    if (current && current.getTime() >= until.getTime()) return;
    await client.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: full(key), Retention: { Mode: 'COMPLIANCE', RetainUntilDate: until } }));
  };
  const retention: BlobRetention | undefined =
    days === undefined
      ? undefined
      : {
          days,
          async extend(keys, until) {
            const retained = keys.filter(isRetainedKey);
            for (let i = 0; i < retained.length; i += RETENTION_CONCURRENCY) await Promise.all(retained.slice(i, i + RETENTION_CONCURRENCY).map((k) => setRetention(k, until)));
          },
          until: retainedUntil,
        };

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
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: data, ContentLength: data.length, ...lockFor(key) }), { abortSignal: signal });
    },
    async putIfAbsent(key, data, signal) {
      // Content-addressed and create-only files: two writers racing write the same bytes (chunks) or
      // equivalent ones (config, key files: the loser re-reads); If-None-Match is not offered by every
      // S3-compatible service, so a HEAD decides.
      if (await head(key)) return false;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: full(key), Body: data, ContentLength: data.length, ...lockFor(key) }), { abortSignal: signal });
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
      if (days !== undefined && isRetainedKey(key)) {
        // Rampart refuses first, with the date; the storage would refuse too (checked below, should the clocks differ).
        const until = await retainedUntil(key);
        if (until && until.getTime() > Date.now()) throw immutableError(key, until, false);
      }
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }));
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (days !== undefined && (e.name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403))
          throw immutableError(key, await retainedUntil(key).catch(() => undefined), true);
        throw err;
      }
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
      // Under object lock a self-copy would be refused or make a new version; a dedup hit extends the retention
      // instead, which also keeps GC from deleting the chunk while this writer relies on it.
      if (retention && isRetainedKey(key)) return setRetention(key, new Date(Date.now() + retention.days * DAY_MS));
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
    ...(retention ? { retention } : {}),
  };
}

/** The backend of an object-storage repository (endpoint, bucket, folder, credentials as the repositories section builds them). */
export function openS3Backend(target: ObjectStorageTarget, options: { timeoutMs?: number; immutableDays?: number } = {}): BlobBackend {
  return s3Backend(objectStorageClient(target, options.timeoutMs ?? 60_000), target.bucket, target.folder, {
    ...(options.immutableDays !== undefined ? { immutableDays: options.immutableDays } : {}),
    description: `bucket "${target.bucket}"${target.folder ? ` folder "${target.folder}"` : ''}${target.endpoint ? ` at ${target.endpoint}` : ''}`,
  });
}
