import { badRequest } from '../../http/errors.js';
import { PassphraseKey, SEAL_FORMAT, SealError, type KdfParams } from '../../automation/passphrase-seal.js';
import { getAt, nonEmpty, setAt, type AutomationSection } from './section.js';

export interface SealBlock {
  format: typeof SEAL_FORMAT;
  kdf: KdfParams;
  cipher: 'aes-256-gcm';
  check: string;
  secrets: Record<string, string>;
}

/** Each secret is bound to its section, its place and the identity of its object. */
const binding = (kind: string, pointer: string, identity: string) => `${kind}|${pointer}|${identity}`;

/** Moves every non-empty secret of an exported collection into a sealed block, leaving the fields empty. */
export function sealCollection(section: AutomationSection, collection: Record<string, unknown>, key: PassphraseKey): void {
  const secrets: Record<string, string> = {};
  for (const item of section.items(collection)) {
    for (const path of section.secretPaths) {
      const value = getAt(item.raw, path);
      if (!nonEmpty(value)) continue;
      const pointer = `${item.pointer}/${path}`;
      secrets[pointer] = key.seal(value, binding(section.kind, pointer, item.identity));
      setAt(item.raw, path, '');
    }
  }
  collection.rampartSeal = { format: SEAL_FORMAT, kdf: key.kdf, cipher: 'aes-256-gcm', check: key.check(), secrets } satisfies SealBlock;
}

/**
 * Opens a sealed collection's secrets back into their places, before anything is
 * imported: a wrong passphrase or a damaged or moved secret is a 400 and nothing
 * is touched. `keys` caches derived keys by salt (a whole-configuration file
 * shares one).
 */
export async function openCollection(
  section: AutomationSection,
  collection: Record<string, unknown>,
  passphrase: string | undefined,
  keys: Map<string, PassphraseKey> = new Map(),
): Promise<void> {
  const block = collection.rampartSeal as SealBlock | undefined;
  if (!block) return;
  delete collection.rampartSeal;
  if (!passphrase) throw badRequest(`This ${section.kind} collection is sealed: send its passphrase in the x-rampart-seal-passphrase header.`);
  let key = keys.get(JSON.stringify(block.kdf));
  try {
    key ??= await PassphraseKey.derive(passphrase, block.kdf);
  } catch (err) {
    if (err instanceof SealError) throw badRequest(`The sealed ${section.kind} collection cannot be opened: ${err.message}`);
    throw err;
  }
  if (!key.verify(block.check)) throw badRequest('The passphrase does not open this sealed export; nothing was imported.');
  keys.set(JSON.stringify(block.kdf), key);
  const items = new Map(section.items(collection).map((i) => [i.pointer, i]));
  for (const [pointer, sealed] of Object.entries(block.secrets)) {
    const cut = pointer.split('/').slice(0, 3).join('/');
    const item = items.get(cut);
    const path = pointer.slice(cut.length + 1);
    if (!item || !section.secretPaths.includes(path)) throw badRequest(`The sealed secret at "${pointer}" has no place in this ${section.kind} collection; nothing was imported.`);
    try {
      setAt(item.raw, path, key.open(sealed, binding(section.kind, pointer, item.identity)));
    } catch (err) {
      if (err instanceof SealError) throw badRequest(`The sealed secret at "${pointer}" does not open (damaged, or moved from another object); nothing was imported.`);
      throw err;
    }
  }
}
