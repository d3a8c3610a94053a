import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hashRaw } from '@node-rs/argon2';

/**
 * Secrets sealed under a passphrase, for a sealed export: a file that travels
 * between servers, so it cannot use either server's master key. The key comes
 * from argon2id (memory-hard, parameters kept beside the salt so they can grow);
 * each secret is AES-256-GCM with its own IV and bound, through the additional
 * data, to the place it was exported from: moved elsewhere in the file, it does
 * not open.
 */
export const SEAL_FORMAT = 'rampart-sealed-export-v1';

export interface KdfParams {
  algorithm: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64, 16 bytes */
  salt: string;
}

/** 64 MiB, 3 passes: about a quarter of a second here, and per guess for anyone holding the file. */
export const DEFAULT_KDF = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const;
/** What a file may ask of the importing server: strong enough to mean something, bounded so it cannot exhaust memory. */
const BOUNDS = { memoryKiB: [19 * 1024, 1024 * 1024], iterations: [1, 20], parallelism: [1, 8] } as const;

const ARGON2ID = 2;
const CHECK_TEXT = 'rampart-seal-check';
const CHECK_BINDING = 'check';

export class SealError extends Error {}

export class PassphraseKey {
  private constructor(
    private readonly key: Buffer,
    readonly kdf: KdfParams,
  ) {}

  static async derive(passphrase: string, kdf?: KdfParams): Promise<PassphraseKey> {
    if (passphrase.length === 0) throw new SealError('The passphrase is empty.');
    const params: KdfParams = kdf ?? { algorithm: 'argon2id', ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') };
    checkParams(params);
    const key = await hashRaw(passphrase, {
      algorithm: ARGON2ID,
      memoryCost: params.memoryKiB,
      timeCost: params.iterations,
      parallelism: params.parallelism,
      outputLen: 32,
      salt: Buffer.from(params.salt, 'base64'),
    });
    return new PassphraseKey(key, params);
  }

  /** base64(iv ‖ ciphertext ‖ tag) */
  seal(plain: string, binding: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${SEAL_FORMAT}|${binding}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  /** Throws SealError (never naming the value) when it does not open under this key and binding. */
  open(sealed: string, binding: string): string {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < 12 + 16) throw new SealError('A sealed value is too short.');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${SEAL_FORMAT}|${binding}`, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError('A sealed value does not open.');
    }
  }

  /** A known value sealed under the key: lets an import tell a wrong passphrase from a damaged secret. */
  check(): string {
    return this.seal(CHECK_TEXT, CHECK_BINDING);
  }

  verify(check: string): boolean {
    try {
      return this.open(check, CHECK_BINDING) === CHECK_TEXT;
    } catch {
      return false;
    }
  }
}

function checkParams(p: KdfParams): void {
  if (p.algorithm !== 'argon2id') throw new SealError(`Unknown key derivation "${String(p.algorithm)}"; this server knows argon2id.`);
  for (const name of ['memoryKiB', 'iterations', 'parallelism'] as const) {
    const [min, max] = BOUNDS[name];
    if (!Number.isInteger(p[name]) || p[name] < min || p[name] > max) throw new SealError(`The key derivation's ${name} must be a whole number from ${min} to ${max}.`);
  }
  if (Buffer.from(p.salt, 'base64').length < 16) throw new SealError('The key derivation salt must be at least 16 bytes.');
}
