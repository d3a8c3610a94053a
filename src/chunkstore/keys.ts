/**
 * Encryption keys, one file per password: docs/repository-format.md §3.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { hashRaw } from '@node-rs/argon2';
import type { BlobBackend } from './backend.js';
import { keyFileKey, KEYS_PREFIX } from './layout.js';
import { ChunkStoreError } from './errors.js';

export const KEY_FORMAT = 'rampart-key';
export const KEY_VERSION = 1;
/** OWASP's Argon2id minimum: 19 MiB, 2 passes; ~40 ms here, once per job run. */
export const DEFAULT_KDF = { memoryKiB: 19456, iterations: 2, parallelism: 1 } as const;

export interface KdfParams {
  name: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64, 16 bytes */
  salt: string;
}

export interface KeyFile {
  format: typeof KEY_FORMAT;
  version: number;
  fingerprint: string;
  createdAt: string;
  kdf: KdfParams;
  wrappedKey: { cipher: 'aes-256-gcm'; iv: string; tag: string; data: string };
}

/** An opened key: what chunks and manifests are sealed with. Never serialized. */
export interface StoreKey {
  readonly fingerprint: string;
  readonly dataKey: Buffer;
  readonly idKey: Buffer;
}

const wrapAad = (fingerprint: string) => Buffer.from(`rampart-store v1 key ${fingerprint}`, 'utf8');

function deriveKey(master: Buffer): StoreKey {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  return {
    fingerprint: createHmac('sha256', master).update('rampart key fingerprint').digest().subarray(0, 16).toString('hex'),
    dataKey: derive('rampart chunk data'),
    idKey: derive('rampart chunk id'),
  };
}

async function kek(password: string, kdf: KdfParams): Promise<Buffer> {
  return hashRaw(password, {
    algorithm: 2, // Algorithm.Argon2id (a const enum, which isolatedModules cannot import)
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    outputLen: 32,
    salt: Buffer.from(kdf.salt, 'base64'),
  });
}

function parseKeyFile(text: string, key: string): KeyFile {
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch {
    throw new ChunkStoreError('CorruptKey', `The key file ${key} is not valid JSON.`);
  }
  if (file?.format !== KEY_FORMAT || file.version !== KEY_VERSION || file.kdf?.name !== 'argon2id' || !/^[0-9a-f]{32}$/.test(file.fingerprint ?? ''))
    throw new ChunkStoreError('CorruptKey', `The key file ${key} is not a rampart-key v1 file.`);
  return file;
}

/** Opens a key file with a password; undefined when the password is not the one it was made with. */
async function unwrap(file: KeyFile, password: string): Promise<StoreKey | undefined> {
  const k = await kek(password, file.kdf);
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(file.wrappedKey.iv, 'base64'));
    decipher.setAAD(wrapAad(file.fingerprint));
    decipher.setAuthTag(Buffer.from(file.wrappedKey.tag, 'base64'));
    const master = Buffer.concat([decipher.update(Buffer.from(file.wrappedKey.data, 'base64')), decipher.final()]);
    const key = deriveKey(master);
    // The fingerprint is recomputed: a key file whose name was edited cannot pass for another key.
    if (key.fingerprint !== file.fingerprint) throw new ChunkStoreError('CorruptKey', `The key file ${file.fingerprint} holds another key than it names.`);
    return key;
  } catch (err) {
    if (err instanceof ChunkStoreError) throw err;
    return undefined;
  }
}

export async function readKeyFile(backend: BlobBackend, fingerprint: string): Promise<KeyFile> {
  const key = keyFileKey(fingerprint);
  const head = await backend.head(key);
  if (!head) throw new ChunkStoreError('KeyMissing', `The encryption key ${fingerprint} is missing from the ${backend.description}.`);
  return parseKeyFile((await backend.get(key)).toString('utf8'), key);
}

/** The key with this fingerprint, opened with the password; a wrong password is refused by name. */
export async function openKey(backend: BlobBackend, fingerprint: string, password: string): Promise<StoreKey> {
  const key = await unwrap(await readKeyFile(backend, fingerprint), password);
  if (!key) throw new ChunkStoreError('WrongPassword', `The encryption password does not open key ${fingerprint} of the ${backend.description}.`);
  return key;
}

/**
 * The key of this password in the repository: an existing key file it opens,
 * else a new key (random master key wrapped by Argon2id(password)).
 */
export async function keyForPassword(backend: BlobBackend, password: string, kdfParams: Omit<KdfParams, 'name' | 'salt'> = DEFAULT_KDF): Promise<StoreKey> {
  for await (const blob of backend.list(KEYS_PREFIX)) {
    if (!blob.key.endsWith('.json')) continue;
    const opened = await unwrap(parseKeyFile((await backend.get(blob.key)).toString('utf8'), blob.key), password);
    if (opened) return opened;
  }
  const master = randomBytes(32);
  const key = deriveKey(master);
  const kdf: KdfParams = { name: 'argon2id', ...kdfParams, salt: randomBytes(16).toString('base64') };
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await kek(password, kdf), iv);
  cipher.setAAD(wrapAad(key.fingerprint));
  const data = Buffer.concat([cipher.update(master), cipher.final()]);
  const file: KeyFile = {
    format: KEY_FORMAT,
    version: KEY_VERSION,
    fingerprint: key.fingerprint,
    createdAt: new Date().toISOString(),
    kdf,
    wrappedKey: { cipher: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') },
  };
  await backend.putIfAbsent(keyFileKey(key.fingerprint), Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
  return key;
}
