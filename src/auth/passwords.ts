import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id is an ambient const enum; its value is 2.
const ARGON2ID = 2;

/** argon2id with the library's defaults (19 MiB, t=2), the OWASP minimum for interactive logins. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

/** Computed once: verifying an unknown user's login against it costs the same as a real one. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    decoyHash ??= hashPassword('rampart-decoy-password');
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

/** A password people can copy: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(randomBytes: (n: number) => Buffer): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) {
    if (b < 224) out += alphabet[b % alphabet.length]; // 224 = 4*56: no modulo bias
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword(randomBytes);
}
