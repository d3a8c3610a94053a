import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The key that signs access tokens lives in the data folder (mode 0600), not in the
 * database, so a copy of the database alone cannot mint tokens. Nodes sharing one
 * PostgreSQL database must share this file too (or set RAMPART_TOKEN_SIGNING_KEY).
 */
export async function loadTokenSigningKey(dataDir: string, fromEnv?: string): Promise<Uint8Array> {
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'base64');
    if (key.length < 32) throw new Error('RAMPART_TOKEN_SIGNING_KEY: must be at least 32 bytes, base64-encoded');
    return key;
  }
  const file = path.join(dataDir, 'token-signing.key');
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length < 32) throw new Error(`${file} is damaged (shorter than 32 bytes); remove it to sign everybody out and make a new one`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(64);
  // 'wx': if another process created it a moment ago, fail and read theirs instead.
  try {
    await writeFile(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadTokenSigningKey(dataDir);
    throw err;
  }
}
