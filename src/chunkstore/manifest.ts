/**
 * Restore point manifests: docs/repository-format.md §6. Written last.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ChunkStoreError } from './errors.js';
import type { StoreKey } from './keys.js';
import { restorePointPath, type RestorePointRef } from './layout.js';

export const MANIFEST_FORMAT = 'rampart-manifest';
export const MANIFEST_VERSION = 1;

export interface ManifestDisk {
  key: string;
  uid: string;
  name: string;
  capacity: number;
  chunkSize: number;
  index: string;
  indexCsum: string;
  chunks: number;
  zeroChunks: number;
  newChunks: number;
  storedBytes: number;
}

export interface ManifestBody extends RestorePointRef {
  createdAt: string;
  kind: 'Full' | 'Increment';
  /** A full made from an incremental read (a synthetic full); absent on active fulls and increments. */
  synthetic?: true;
  compression: { level: number };
  /** The job's settings at the time, as the caller gave them. */
  job: unknown;
  /** The backed-up object (VM name, configuration), as the caller gave it. */
  object: unknown;
  disks: ManifestDisk[];
}

/** What is readable without a password (docs §6, §8). */
export interface ManifestOuter extends RestorePointRef {
  format: typeof MANIFEST_FORMAT;
  version: number;
  createdAt: string;
  keyFingerprint?: string;
}

interface ManifestFile extends ManifestOuter {
  body?: string;
  sha256?: string;
  iv?: string;
  tag?: string;
  ciphertext?: string;
}

const aadOf = (o: ManifestOuter) => Buffer.from(`rampart-manifest v1 ${restorePointPath(o)} ${o.createdAt}`, 'utf8');

export function encodeManifest(body: ManifestBody, key: StoreKey | undefined): Buffer {
  const outer: ManifestOuter = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    backupId: body.backupId,
    objectId: body.objectId,
    restorePointId: body.restorePointId,
    createdAt: body.createdAt,
  };
  const text = JSON.stringify(body);
  let file: ManifestFile;
  if (key) {
    outer.keyFingerprint = key.fingerprint;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.dataKey, iv);
    cipher.setAAD(aadOf(outer));
    const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    file = { ...outer, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
  } else {
    file = { ...outer, body: text, sha256: createHash('sha256').update(text, 'utf8').digest('hex') };
  }
  return Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8');
}

function bad(where: string, why: string): ChunkStoreError {
  return new ChunkStoreError('CorruptManifest', `The manifest ${where} is unusable: ${why}.`);
}

/** The clear part only: no password needed (listing, rescan). */
export function readManifestOuter(bytes: Buffer, where: string): ManifestOuter & { file: ManifestFile } {
  let file: ManifestFile;
  try {
    file = JSON.parse(bytes.toString('utf8')) as ManifestFile;
  } catch {
    throw bad(where, 'not JSON');
  }
  if (file?.format !== MANIFEST_FORMAT) throw bad(where, 'not a rampart manifest');
  if (file.version !== MANIFEST_VERSION)
    throw new ChunkStoreError('UnsupportedFormat', `The manifest ${where} has version ${file.version}; this Rampart reads version ${MANIFEST_VERSION}.`);
  for (const f of ['backupId', 'objectId', 'restorePointId', 'createdAt'] as const) if (typeof file[f] !== 'string') throw bad(where, `no ${f}`);
  return { ...file, file };
}

/** The whole manifest, checked (sha256, or GCM tag with the place as AAD) and its copies compared. */
export function decodeManifest(bytes: Buffer, where: string, key: StoreKey | undefined): ManifestBody {
  const outer = readManifestOuter(bytes, where);
  const { file } = outer;
  let text: string;
  if (file.keyFingerprint !== undefined) {
    if (!key) throw new ChunkStoreError('PasswordRequired', `The restore point ${restorePointPath(outer)} is encrypted: its encryption password is needed.`);
    if (key.fingerprint !== file.keyFingerprint)
      throw new ChunkStoreError(
        'WrongPassword',
        `The restore point ${restorePointPath(outer)} is encrypted with key ${file.keyFingerprint}, not with the key of the given password.`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.dataKey, Buffer.from(file.iv ?? '', 'base64'));
      decipher.setAAD(aadOf(outer));
      decipher.setAuthTag(Buffer.from(file.tag ?? '', 'base64'));
      text = Buffer.concat([decipher.update(Buffer.from(file.ciphertext ?? '', 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw bad(where, 'AES-GCM authentication failed');
    }
  } else {
    if (typeof file.body !== 'string' || createHash('sha256').update(file.body, 'utf8').digest('hex') !== file.sha256) throw bad(where, 'checksum mismatch');
    text = file.body;
  }
  let body: ManifestBody;
  try {
    body = JSON.parse(text) as ManifestBody;
  } catch {
    throw bad(where, 'body is not JSON');
  }
  for (const f of ['backupId', 'objectId', 'restorePointId', 'createdAt'] as const) if (body[f] !== outer[f]) throw bad(where, `${f} differs inside and outside`);
  if (!Array.isArray(body.disks)) throw bad(where, 'no disks');
  return body;
}
