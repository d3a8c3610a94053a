/**
 * Where each file lives: docs/repository-format.md §1.
 */
import { ChunkStoreError } from './errors.js';

export const ROOT = 'rampart';
export const CONFIG_KEY = `${ROOT}/config.json`;
export const KEYS_PREFIX = `${ROOT}/keys/`;
export const CHUNKS_PREFIX = `${ROOT}/chunks/`;
export const BACKUPS_PREFIX = `${ROOT}/backups/`;
export const LOCKS_PREFIX = `${ROOT}/locks/`;
export const QUARANTINE_PREFIX = `${ROOT}/quarantine/`;
export const MANIFEST_NAME = 'manifest.json';
export const BAD_SUFFIX = '.bad';

const ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function checkId(value: string, what: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw new ChunkStoreError('InvalidArgument', `${what} "${String(value).slice(0, 140)}" is not 1-128 of A-Z a-z 0-9 . _ -`);
  return value;
}

export function keyFileKey(fingerprint: string): string {
  return `${KEYS_PREFIX}${fingerprint}.json`;
}

export function chunkKey(digest: Buffer | string): string {
  const hex = typeof digest === 'string' ? digest : digest.toString('hex');
  return `${CHUNKS_PREFIX}${hex.slice(0, 4)}/${hex}`;
}

/** The digest a chunk key names, or undefined for anything else under chunks/ (.bad, temp files). */
export function digestOfChunkKey(key: string): string | undefined {
  const m = /\/([0-9a-f]{4})\/([0-9a-f]{64})$/.exec(key);
  return m && m[2]!.startsWith(m[1]!) ? m[2] : undefined;
}

/** Names one restore point in the repository. */
export interface RestorePointRef {
  backupId: string;
  objectId: string;
  restorePointId: string;
}

export function restorePointFolder(ref: RestorePointRef): string {
  return `${BACKUPS_PREFIX}${checkId(ref.backupId, 'backupId')}/${checkId(ref.objectId, 'objectId')}/${checkId(ref.restorePointId, 'restorePointId')}/`;
}

export function restorePointPath(ref: RestorePointRef): string {
  return `${ref.backupId}/${ref.objectId}/${ref.restorePointId}`;
}

export function manifestKey(ref: RestorePointRef): string {
  return `${restorePointFolder(ref)}${MANIFEST_NAME}`;
}

export function indexName(diskKey: string): string {
  return `disk-${checkId(diskKey, 'disk key')}.fidx`;
}

export function quarantineKey(digestHex: string): string {
  return `${QUARANTINE_PREFIX}${digestHex}`;
}

export function lockKey(writerId: string): string {
  return `${LOCKS_PREFIX}${checkId(writerId, 'writerId')}.json`;
}
