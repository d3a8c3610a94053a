import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, GetObjectLockConfigurationCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { consumptionLimitBytes, StorageCheckError, type StorageFigures } from './figures.js';
import { capacityXmlKeys, parseCapacityXml } from './sosapi.js';
import type { ObjectStorageTarget } from './object-endpoint.js';
import type { StepRunner } from './steps.js';

export interface ObjectStorageOptions {
  /** Bounds every request (connect, send, answer); a service point that stops answering fails fast. */
  timeoutMs: number;
  signal?: AbortSignal;
  consumptionLimit?: { count: number; kind: 'TB' | 'PB' } | undefined;
  /** Days of immutability asked for; the bucket must have object lock enabled. */
  immutabilityDays?: number;
  write?: boolean;
}

/** Used bytes are summed from the listing, at most this many pages, so a huge bucket cannot stall a refresh. */
const MAX_LIST_PAGES = 20;

export function objectStorageClient(target: ObjectStorageTarget, timeoutMs: number): S3Client {
  return new S3Client({
    region: target.region || 'us-east-1',
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId: target.accessKey, secretAccessKey: target.secretKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
}

function where(target: ObjectStorageTarget): string {
  return `bucket "${target.bucket}"${target.endpoint ? ` at ${target.endpoint}` : ` in region ${target.region}`}`;
}

/** A message that says what to fix; never the secret key, never the raw signature details. */
export function describeS3Failure(err: unknown, target: ObjectStorageTarget, stopped?: AbortSignal): string {
  // Stopped by whoever runs the check (a stopped session): not the service point's fault.
  if (stopped?.aborted) return `The check of the ${where(target)} was canceled.`;
  const e = err as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? e?.Code ?? '';
  if (name === 'NoSuchBucket' || (status === 404 && name === 'NotFound')) return `The ${where(target)} does not exist; create it first or correct the bucket name.`;
  if (name === 'InvalidAccessKeyId') return `The service point does not know the access key "${target.accessKey}"; check the cloud credentials.`;
  if (name === 'SignatureDoesNotMatch') return `The service point refused the secret key of access key "${target.accessKey}"; check the cloud credentials.`;
  if (status === 403 || name === 'AccessDenied' || name === 'Forbidden')
    return `Access to the ${where(target)} is denied for access key "${target.accessKey}"; grant it read and write access.`;
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out|ETIMEDOUT|socket hang up/i.test(e?.message ?? ''))
    return `The service point of the ${where(target)} did not answer in time; check that it is running and reachable.`;
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ECONNRESET/.test(`${e?.code ?? ''} ${e?.message ?? ''} ${name}`))
    return `Cannot connect to the service point of the ${where(target)} (${e?.code ?? e?.message}); check the address and that it is running.`;
  return `The ${where(target)} answered with an error: ${name || 'error'}${status ? ` (HTTP ${status})` : ''}${e?.message && e.message !== name ? `: ${e.message.slice(0, 200)}` : ''}.`;
}

async function readText(client: S3Client, bucket: string, key: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return (await out.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

async function usedBytesUnder(client: S3Client, target: ObjectStorageTarget, signal: AbortSignal): Promise<number> {
  let used = 0;
  let token: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const out = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: target.folder ? `${target.folder}/` : undefined, ContinuationToken: token }), {
      abortSignal: signal,
    });
    for (const o of out.Contents ?? []) used += o.Size ?? 0;
    if (!out.IsTruncated || !out.NextContinuationToken) break;
    token = out.NextContinuationToken;
  }
  return used;
}

/**
 * Capacity of an object-storage repository, from the best source there is:
 * the bucket's SOSAPI capacity.xml, else the configured consumption limit (with
 * the used bytes listed under the folder), else unknown (used bytes only).
 */
async function figures(client: S3Client, target: ObjectStorageTarget, options: ObjectStorageOptions, signal: AbortSignal): Promise<StorageFigures> {
  for (const key of capacityXmlKeys(target.folder)) {
    const xml = await readText(client, target.bucket, key, signal);
    const report = xml === undefined ? undefined : parseCapacityXml(xml);
    if (report) return { capacityBytes: report.capacity, freeBytes: report.available, usedBytes: report.used, source: 'sosapi' };
  }
  const used = await usedBytesUnder(client, target, signal);
  if (options.consumptionLimit) {
    const limit = consumptionLimitBytes(options.consumptionLimit.count, options.consumptionLimit.kind);
    return { capacityBytes: limit, freeBytes: Math.max(0, limit - used), usedBytes: used, source: 'consumptionLimit' };
  }
  return { capacityBytes: null, freeBytes: null, usedBytes: used, source: 'unknown' };
}

function timedSignal(options: ObjectStorageOptions, factor: number): AbortSignal {
  const timeout = AbortSignal.timeout(options.timeoutMs * factor);
  return options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
}

/** Background measurement: capacity only, no writes. */
export async function measureObjectStorage(target: ObjectStorageTarget, options: ObjectStorageOptions): Promise<StorageFigures> {
  const client = objectStorageClient(target, options.timeoutMs);
  try {
    return await figures(client, target, options, timedSignal(options, 3));
  } catch (err) {
    throw new StorageCheckError(describeS3Failure(err, target, options.signal));
  } finally {
    client.destroy();
  }
}

/**
 * HeadBucket. Its answers have no body, so a 403 does not say whether the secret
 * key is wrong, the access key unknown or a permission missing; a one-key
 * listing (a GET, whose error answer names its code) tells them apart.
 */
async function openBucket(client: S3Client, bucket: string, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 403) throw err;
    await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }), { abortSignal: signal });
    throw err;
  }
}

/**
 * The add/edit checks: the service point answers and the credentials work
 * (HeadBucket), the bucket exists, object lock is on when immutability is asked
 * for, the folder is created (a zero-byte "folder/" marker), a probe object is
 * written, read back and deleted, and the capacity is read.
 */
export async function checkObjectStorage(target: ObjectStorageTarget, steps: StepRunner, options: ObjectStorageOptions): Promise<StorageFigures> {
  const client = objectStorageClient(target, options.timeoutMs);
  const call = async <T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await work(timedSignal(options, 2));
    } catch (err) {
      if (err instanceof StorageCheckError) throw err;
      throw new StorageCheckError(describeS3Failure(err, target, options.signal));
    }
  };
  try {
    await steps.step(
      `Connecting to ${target.endpoint ?? `region ${target.region}`} and opening bucket "${target.bucket}"`,
      () => call((signal) => openBucket(client, target.bucket, signal)),
      () => `Bucket "${target.bucket}" exists and the credentials are accepted`,
    );
    if (options.immutabilityDays !== undefined) {
      await steps.step(
        `Checking object lock on bucket "${target.bucket}" for ${options.immutabilityDays}-day immutability`,
        () =>
          call(async (signal) => {
            try {
              const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: target.bucket }), { abortSignal: signal });
              if (out.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') throw new Error('disabled');
            } catch (err) {
              const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
              if (err instanceof Error && err.message === 'disabled')
                throw new StorageCheckError(
                  `Bucket "${target.bucket}" does not have object lock enabled, so backups in it cannot be made immutable; use a bucket created with object lock, or turn immutability off.`,
                );
              if (e.name === 'ObjectLockConfigurationNotFoundError' || e.$metadata?.httpStatusCode === 404 || e.$metadata?.httpStatusCode === 501 || e.name === 'NotImplemented') {
                throw new StorageCheckError(
                  `Bucket "${target.bucket}" has no object lock configuration (the storage answered ${e.name ?? 'an error'}), so backups in it cannot be made immutable; use a bucket created with object lock, or turn immutability off.`,
                );
              }
              throw err;
            }
          }),
        () => 'Object lock is enabled',
      );
    }
    if (options.write !== false) {
      await steps.step(
        `Creating folder "${target.folder}" in bucket "${target.bucket}"`,
        () => call((signal) => client.send(new PutObjectCommand({ Bucket: target.bucket, Key: `${target.folder}/`, Body: new Uint8Array(0) }), { abortSignal: signal })),
        () => `Folder "${target.folder}" is in place`,
      );
      await steps.step(
        `Checking that bucket "${target.bucket}" is writable`,
        () =>
          call(async (signal) => {
            const key = `${target.folder}/.rampart-probe-${randomUUID()}`;
            const content = randomUUID();
            try {
              await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: content }), { abortSignal: signal });
              const back = await readText(client, target.bucket, key, signal);
              if (back !== content) throw new StorageCheckError(`The probe object written to bucket "${target.bucket}" read back different content: the storage is not reliable.`);
            } finally {
              await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: signal }).catch(() => undefined);
            }
          }),
        () => 'Wrote, read back and deleted a probe object',
      );
    }
    return await steps.step(
      'Reading the capacity of the bucket',
      () => call((signal) => figures(client, target, options, signal)),
      (f) =>
        f.source === 'sosapi'
          ? `Capacity from the bucket's Smart Object Storage API: ${gb(f.capacityBytes)} GB, free ${gb(f.freeBytes)} GB`
          : f.source === 'consumptionLimit'
            ? `No capacity report in the bucket; capacity is the storage consumption limit: ${gb(f.capacityBytes)} GB, used ${gb(f.usedBytes)} GB`
            : `No capacity report in the bucket and no consumption limit: capacity unknown, used ${gb(f.usedBytes)} GB`,
    );
  } finally {
    client.destroy();
  }
}

const gb = (bytes: number | null) => (bytes === null ? '?' : (bytes / 1024 ** 3).toFixed(2));
