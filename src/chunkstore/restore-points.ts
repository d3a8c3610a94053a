/**
 * The repository describes itself: every restore point is found from its
 * manifest alone (docs/repository-format.md §8), so a rescan rebuilds a lost
 * database.
 */
import { openKey, type StoreKey } from './keys.js';
import { BACKUPS_PREFIX, MANIFEST_NAME, type RestorePointRef } from './layout.js';
import { decodeManifest, readManifestOuter, type ManifestBody } from './manifest.js';
import type { ChunkStore } from './repository.js';

export interface ListedRestorePoint extends RestorePointRef {
  createdAt: string;
  /** Present when encrypted: the key (password) it needs. */
  keyFingerprint?: string;
  /** The whole manifest, when it could be read (unencrypted, or a password given opens it). */
  manifest?: ManifestBody;
  /** Why the manifest could not be read in full (corrupt, or no password for its key). */
  problem?: string;
}

/** The ref a manifest key names: rampart/backups/<backup>/<object>/<rp>/manifest.json. */
export function refOfManifestKey(key: string): RestorePointRef | undefined {
  if (!key.startsWith(BACKUPS_PREFIX) || !key.endsWith(`/${MANIFEST_NAME}`)) return undefined;
  const parts = key.slice(BACKUPS_PREFIX.length).split('/');
  if (parts.length !== 4) return undefined;
  return { backupId: parts[0]!, objectId: parts[1]!, restorePointId: parts[2]! };
}

/** Every manifest key under a prefix of rampart/backups/ (a whole repository, one backup, one object). */
export async function* manifestKeys(store: ChunkStore, ref: Partial<RestorePointRef> = {}): AsyncGenerator<{ key: string; ref: RestorePointRef }> {
  let prefix = BACKUPS_PREFIX;
  if (ref.backupId) prefix += `${ref.backupId}/`;
  if (ref.backupId && ref.objectId) prefix += `${ref.objectId}/`;
  for await (const blob of store.backend.list(prefix)) {
    const found = refOfManifestKey(blob.key);
    if (found) yield { key: blob.key, ref: found };
  }
}

/**
 * Every restore point in the repository, oldest first. With `passwords`, the
 * encrypted manifests whose key one of them opens are read in full too.
 */
export async function listRestorePoints(store: ChunkStore, options: { passwords?: string[]; within?: Partial<RestorePointRef> } = {}): Promise<ListedRestorePoint[]> {
  const keys = new Map<string, StoreKey | null>();
  const keyFor = async (fingerprint: string): Promise<StoreKey | undefined> => {
    if (!keys.has(fingerprint)) {
      let opened: StoreKey | null = null;
      for (const password of options.passwords ?? []) {
        opened = await openKey(store.backend, fingerprint, password).catch(() => null);
        if (opened) break;
      }
      keys.set(fingerprint, opened);
    }
    return keys.get(fingerprint) ?? undefined;
  };
  const found: ListedRestorePoint[] = [];
  for await (const { key, ref } of manifestKeys(store, options.within)) {
    let bytes: Buffer;
    try {
      bytes = await store.backend.get(key);
    } catch {
      continue; // deleted since listed
    }
    const where = `${key} in the ${store.backend.description}`;
    try {
      const outer = readManifestOuter(bytes, where);
      const entry: ListedRestorePoint = { ...ref, createdAt: outer.createdAt };
      if (outer.backupId !== ref.backupId || outer.objectId !== ref.objectId || outer.restorePointId !== ref.restorePointId) {
        found.push({ ...entry, problem: `The manifest ${where} names another place (${outer.backupId}/${outer.objectId}/${outer.restorePointId}).` });
        continue;
      }
      if (outer.keyFingerprint) entry.keyFingerprint = outer.keyFingerprint;
      const storeKey = outer.keyFingerprint ? await keyFor(outer.keyFingerprint) : undefined;
      if (outer.keyFingerprint && !storeKey) entry.problem = `Encrypted with key ${outer.keyFingerprint}: its password is needed to read the restore point's contents.`;
      else entry.manifest = decodeManifest(bytes, where, storeKey);
      found.push(entry);
    } catch (err) {
      found.push({ ...ref, createdAt: '', problem: (err as Error).message });
    }
  }
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.restorePointId.localeCompare(b.restorePointId));
}
