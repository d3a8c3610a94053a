import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { VaultError } from './errors.js';

/** One AES-256 master key and the id every sealed value records. */
export interface MasterKey {
  id: string;
  key: Buffer;
  createdAt: string;
}

export const MASTER_KEY_FILE = 'master.key';
const FORMAT = 'rampart-master-keyring/1';
/** How often the file's identity is checked for changes made by another process (the CLI). */
const RECHECK_MS = 500;

/** The id is derived from the key, so the same key has the same id in the file and in the environment. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('rampart-master-key-id\0').update(key).digest('hex').slice(0, 16);
}

function keyFrom(base64: string, where: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new VaultError('BadMasterKey', `${where}: a master key must be 32 bytes, base64-encoded (got ${key.length} bytes).`);
  return key;
}

interface KeyringFile {
  format: typeof FORMAT;
  current: string;
  keys: { id: string; key: string; createdAt: string }[];
}

/**
 * The master keys this process can use: the current one seals, all of them open.
 * Previous keys stay here during a rotation, so rows not yet re-sealed still open;
 * the rotation retires them once no sealed value names them.
 *
 * The keys live in `<dataDir>/master.key` (JSON, mode 0600), created on first
 * start, or come from RAMPART_MASTER_KEY (comma-separated base64 keys, the
 * current one first). The file is re-read when another process (the
 * rotate-master-key command) has replaced it, and whenever a sealed value names
 * a key id this process has not seen.
 */
export class MasterKeyring {
  private keys = new Map<string, MasterKey>();
  private currentId = '';
  private fileIdentity = '';
  private checkedAt = 0;

  private constructor(
    readonly source: 'file' | 'environment',
    readonly file: string | undefined,
  ) {}

  /** Opens the keyring of a data folder, creating the file with a fresh key on first start. */
  static open(dataDir: string, environmentKeys?: string): MasterKeyring {
    if (environmentKeys && environmentKeys.trim() !== '') {
      const ring = new MasterKeyring('environment', undefined);
      const keys = environmentKeys.split(',').map((k, i) => keyFrom(k, `RAMPART_MASTER_KEY (key ${i + 1})`));
      for (const key of keys) ring.keys.set(masterKeyId(key), { id: masterKeyId(key), key, createdAt: '' });
      ring.currentId = masterKeyId(keys[0]);
      return ring;
    }
    const file = path.join(dataDir, MASTER_KEY_FILE);
    const ring = new MasterKeyring('file', file);
    if (!ring.reloadFile()) {
      const key = randomBytes(32);
      const first: MasterKey = { id: masterKeyId(key), key, createdAt: new Date().toISOString() };
      ring.keys.set(first.id, first);
      ring.currentId = first.id;
      ring.writeFile({ exclusive: true });
    }
    return ring;
  }

  /** The key new secrets are sealed under; picks up a rotation done by another process. */
  current(): MasterKey {
    this.recheckFile();
    return this.keys.get(this.currentId)!;
  }

  /** A key by id; an unknown id makes the file be read again before giving up. */
  find(id: string): MasterKey | undefined {
    const known = this.keys.get(id);
    if (known) return known;
    if (this.source === 'file') this.reloadFile();
    return this.keys.get(id);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  get currentKeyId(): string {
    return this.current().id;
  }

  /** Makes a fresh key current; the old ones stay until retired. Only a file keyring can do this. */
  addNewCurrentKey(): MasterKey {
    if (this.source !== 'file') {
      throw new VaultError(
        'BadMasterKey',
        'The master key comes from RAMPART_MASTER_KEY: put the new key first in that list (keep the old one after it) and restart, then rotate.',
      );
    }
    this.reloadFile();
    const key = randomBytes(32);
    const fresh: MasterKey = { id: masterKeyId(key), key, createdAt: new Date().toISOString() };
    this.keys.set(fresh.id, fresh);
    this.currentId = fresh.id;
    this.writeFile();
    return fresh;
  }

  /** Forgets keys no sealed value names any more. Returns the ids retired. */
  retire(ids: string[]): string[] {
    const retired = ids.filter((id) => id !== this.currentId && this.keys.has(id));
    if (retired.length === 0 || this.source !== 'file') return [];
    this.reloadFile();
    for (const id of retired) this.keys.delete(id);
    this.writeFile();
    return retired;
  }

  private recheckFile(): void {
    if (this.source !== 'file') return;
    const now = Date.now();
    if (now - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = now;
    if (this.identity() !== this.fileIdentity) this.reloadFile();
  }

  private identity(): string {
    try {
      const s = statSync(this.file!);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return '';
    }
  }

  /** Returns false when there is no file yet. */
  private reloadFile(): boolean {
    let text: string;
    try {
      text = readFileSync(this.file!, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new VaultError('BadMasterKey', `Cannot read the master key file ${this.file}: ${(err as Error).message}`);
    }
    this.fileIdentity = this.identity();
    const trimmed = text.trim();
    if (!trimmed.startsWith('{')) {
      // A bare base64 key: an administrator may bring their own single key.
      const key = keyFrom(trimmed, this.file!);
      const id = masterKeyId(key);
      this.keys.set(id, { id, key, createdAt: '' });
      this.currentId = id;
      return true;
    }
    let parsed: KeyringFile;
    try {
      parsed = JSON.parse(trimmed) as KeyringFile;
    } catch {
      throw new VaultError('BadMasterKey', `The master key file ${this.file} is damaged (not valid JSON).`);
    }
    if (parsed.format !== FORMAT || !Array.isArray(parsed.keys) || !parsed.keys.some((k) => k.id === parsed.current)) {
      throw new VaultError('BadMasterKey', `The master key file ${this.file} is not a ${FORMAT} keyring or names no current key.`);
    }
    // Keys are only ever added here: a key that disappeared from the file may still seal rows this process wrote.
    for (const entry of parsed.keys) {
      const key = keyFrom(entry.key, this.file!);
      if (masterKeyId(key) !== entry.id) throw new VaultError('BadMasterKey', `The master key file ${this.file} is damaged (key ${entry.id} does not match its id).`);
      this.keys.set(entry.id, { id: entry.id, key, createdAt: entry.createdAt });
    }
    this.currentId = parsed.current;
    return true;
  }

  /** Atomic replace (write, then rename) so a reader never sees half a file. */
  private writeFile(options: { exclusive?: boolean } = {}): void {
    const body: KeyringFile = {
      format: FORMAT,
      current: this.currentId,
      keys: [...this.keys.values()].map((k) => ({ id: k.id, key: k.key.toString('base64'), createdAt: k.createdAt })),
    };
    const text = JSON.stringify(body, null, 2) + '\n';
    if (options.exclusive) {
      writeFileSync(this.file!, text, { mode: 0o600, flag: 'wx' });
    } else {
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, text, { mode: 0o600 });
      renameSync(temp, this.file!);
    }
    this.fileIdentity = this.identity();
  }
}
