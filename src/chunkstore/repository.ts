/**
 * Opening a repository: config.json, docs/repository-format.md §2.
 */
import { randomUUID } from 'node:crypto';
import type { BlobBackend } from './backend.js';
import { ChunkStoreError } from './errors.js';
import { CONFIG_KEY } from './layout.js';
import { CHUNK_SIZES } from './settings.js';

export const STORE_FORMAT = 'rampart-store';
export const STORE_VERSION = 1;

export interface StoreConfig {
  format: typeof STORE_FORMAT;
  version: number;
  repositoryId: string;
  createdAt: string;
  chunkSizes: number[];
}

/** An opened repository: its backend and its config. Every other function of the library takes one. */
export interface ChunkStore {
  readonly backend: BlobBackend;
  readonly config: StoreConfig;
}

function parseConfig(bytes: Buffer, where: string): StoreConfig {
  let config: StoreConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as StoreConfig;
  } catch {
    throw new ChunkStoreError('UnsupportedFormat', `${CONFIG_KEY} in the ${where} is not JSON.`);
  }
  if (config?.format !== STORE_FORMAT) throw new ChunkStoreError('UnsupportedFormat', `${CONFIG_KEY} in the ${where} is not a rampart-store configuration.`);
  if (config.version !== STORE_VERSION)
    throw new ChunkStoreError(
      'UnsupportedFormat',
      `The repository in the ${where} has format version ${config.version}; this Rampart reads version ${STORE_VERSION} (written by a newer Rampart?).`,
    );
  return config;
}

/**
 * Opens the store in a repository. `create` (default true) writes config.json
 * when absent; without it a repository that holds no store is NotFound.
 */
export async function openChunkStore(backend: BlobBackend, options: { create?: boolean } = {}): Promise<ChunkStore> {
  const existing = await backend.head(CONFIG_KEY);
  if (!existing) {
    if (options.create === false) throw new ChunkStoreError('NotFound', `The ${backend.description} holds no Rampart chunk store.`);
    const config: StoreConfig = { format: STORE_FORMAT, version: STORE_VERSION, repositoryId: randomUUID(), createdAt: new Date().toISOString(), chunkSizes: [...CHUNK_SIZES] };
    // Two nodes creating the same repository at once: one config wins, both use it.
    await backend.putIfAbsent(CONFIG_KEY, Buffer.from(`${JSON.stringify(config, null, 2)}\n`));
  }
  return { backend, config: parseConfig(await backend.get(CONFIG_KEY), backend.description) };
}
