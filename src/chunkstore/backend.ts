/**
 * The storage under a chunk store: a flat space of keys ("rampart/chunks/ab12/…")
 * holding whole blobs. Local folders, Linux folders over SFTP and S3 buckets all
 * fit behind it (docs/repository-format.md §1 "Writes").
 */

export interface BlobInfo {
  key: string;
  size: number;
  /** Last modification, Unix ms (GC's grace window compares it). */
  modifiedMs: number;
}

export interface BlobBackend {
  /** Says where the blobs live, for messages ("local folder /srv/repo"); never a secret. */
  readonly description: string;
  /** Writes a whole blob atomically (temp + rename, or one S3 PUT); overwrites. */
  put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Creates the blob only if absent; false when it existed (chunks, key files, config). */
  putIfAbsent(key: string, data: Uint8Array, signal?: AbortSignal): Promise<boolean>;
  /** The whole blob, or `length` bytes from `offset`; throws BlobNotFoundError when absent. */
  get(key: string, range?: { offset: number; length: number }, signal?: AbortSignal): Promise<Buffer>;
  head(key: string): Promise<BlobInfo | undefined>;
  /** Every blob whose key starts with `prefix` (a folder prefix ends with "/"), in no particular order; temp files included. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Removes a blob; absent is fine. */
  delete(key: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Sets the modification time to now (GC grace, docs §7). */
  touch(key: string): Promise<void>;
  /**
   * Present when blobs are plain files of this machine: the file of `key`.
   * Verification reads chunks there from its worker threads.
   */
  localPath?(key: string): string;
  close(): Promise<void>;
  /**
   * Present on immutable storage (S3 object lock, hardened repositories): the
   * chunks, indexes and manifests written get retention for `days`, and
   * `extend` lengthens the retention of blobs a newer restore point reuses.
   * delete() of a blob still under retention throws ChunkStoreError 'Immutable'.
   */
  readonly retention?: BlobRetention;
}

export interface BlobRetention {
  readonly days: number;
  /** Retention of every key in `keys` lasts at least until `until`; done in batches, never shortened. */
  extend(keys: string[], until: Date): Promise<void>;
  /** Until when the blob is under retention, as the storage says; undefined when nothing holds it (or it is gone). */
  until(key: string): Promise<Date | undefined>;
}

/** The blobs that carry retention: chunks, indexes and manifests. Locks, keys, config and temp files must stay removable. */
export function isRetainedKey(key: string): boolean {
  return (key.startsWith('rampart/chunks/') || key.startsWith('rampart/backups/')) && !key.includes(TEMP_MARKER);
}

export class BlobNotFoundError extends Error {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`${key} is missing from the ${where}`);
    this.name = 'BlobNotFoundError';
  }
}

const SAFE_KEY = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Keys are built by the store itself, but a key from a listing or a caller must never climb out of the root. */
export function checkKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.split('/').some((p) => p === '..' || p === '.')) throw new Error(`"${key}" is not a valid blob key`);
  return key;
}

/** Temporary names carry this marker; listings skip them and GC removes old ones. */
export const TEMP_MARKER = '.tmp-';
