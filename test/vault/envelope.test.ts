import { mkdtemp, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MasterKeyring, masterKeyId } from '../../src/vault/master-keyring.js';
import { openSecret, resealSecret, sealSecret, sealedKeyId, type SecretContext } from '../../src/vault/envelope.js';
import { VaultError } from '../../src/vault/errors.js';

const dirs: string[] = [];
async function dataDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-vault-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const ctx: SecretContext = { kind: 'credentials', type: 'Linux', recordId: '0b7d6c1e-98f4-4d4a-9a57-3c2f0b1f2e11', field: 'password' };

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof VaultError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('envelope encryption', () => {
  it('creates the master key file with mode 0600 and seals into a self-describing value that opens', async () => {
    const dir = await dataDir();
    const ring = MasterKeyring.open(dir);
    expect((await stat(path.join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    const sealed = sealSecret(ring, 'pässwörd 🔑', ctx);
    expect(sealed).toMatch(/^rv1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealedKeyId(sealed)).toBe(ring.currentKeyId);
    expect(openSecret(ring, sealed, ctx)).toBe('pässwörd 🔑');
    // A fresh data key each time: the same secret never seals alike.
    expect(sealSecret(ring, 'pässwörd 🔑', ctx)).not.toBe(sealed);
    // The same file opens again in another process.
    expect(openSecret(MasterKeyring.open(dir), sealed, ctx)).toBe('pässwörd 🔑');
  });

  it('a sealed value does not open for another record, field, kind or type, nor when altered', async () => {
    const ring = MasterKeyring.open(await dataDir());
    const sealed = sealSecret(ring, 'secret', ctx);
    expect(reason(() => openSecret(ring, sealed, { ...ctx, recordId: 'ffffffff-98f4-4d4a-9a57-3c2f0b1f2e11' }))).toBe('DoesNotOpen');
    expect(reason(() => openSecret(ring, sealed, { ...ctx, field: 'rootPassword' }))).toBe('DoesNotOpen');
    expect(reason(() => openSecret(ring, sealed, { ...ctx, kind: 'cloudCredentials' }))).toBe('DoesNotOpen');
    expect(reason(() => openSecret(ring, sealed, { ...ctx, type: 'Standard' }))).toBe('DoesNotOpen');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[5], 'base64url');
    flipped[0] ^= 1;
    parts[5] = flipped.toString('base64url');
    expect(reason(() => openSecret(ring, parts.join('.'), ctx))).toBe('DoesNotOpen');
    expect(reason(() => openSecret(ring, 'plain text', ctx))).toBe('Malformed');
  });

  it('re-sealing re-wraps only the data key: the ciphertext stays, the key id changes, it opens', async () => {
    const ring = MasterKeyring.open(await dataDir());
    const first = ring.currentKeyId;
    const sealed = sealSecret(ring, 'rotate me', ctx);
    const moved = sealSecret(ring, 'x', { ...ctx, recordId: 'other' });
    const next = ring.addNewCurrentKey();
    const resealed = resealSecret(ring, sealed, ctx);
    expect(sealedKeyId(resealed)).toBe(next.id);
    expect(next.id).not.toBe(first);
    expect(resealed.split('.').slice(4)).toEqual(sealed.split('.').slice(4));
    expect(openSecret(ring, resealed, ctx)).toBe('rotate me');
    // The old value still opens until its key is retired.
    expect(openSecret(ring, sealed, ctx)).toBe('rotate me');
    // A value moved from another record is never blessed with a new wrap.
    expect(reason(() => resealSecret(ring, moved, ctx))).toBe('DoesNotOpen');
    ring.retire([first]);
    expect(reason(() => openSecret(MasterKeyring.open(path.dirname(ring.file!)), sealed, ctx))).toBe('UnknownMasterKey');
  });

  it('another process sees a rotation: unknown key ids re-read the file, the current key is re-checked', async () => {
    const dir = await dataDir();
    const server = MasterKeyring.open(dir);
    const cli = MasterKeyring.open(dir);
    const before = server.currentKeyId;
    const fresh = cli.addNewCurrentKey();
    const sealedByCli = sealSecret(cli, 'from the cli', ctx);
    expect(openSecret(server, sealedByCli, ctx)).toBe('from the cli');
    await new Promise((r) => setTimeout(r, 600));
    expect(server.currentKeyId).toBe(fresh.id);
    expect(server.ids()).toContain(before);
  });

  it('takes keys from RAMPART_MASTER_KEY, current first, without writing a file', async () => {
    const dir = await dataDir();
    const a = randomBytes(32);
    const b = randomBytes(32);
    const old = MasterKeyring.open(dir, b.toString('base64'));
    const sealed = sealSecret(old, 'env secret', ctx);
    const ring = MasterKeyring.open(dir, `${a.toString('base64')},${b.toString('base64')}`);
    expect(ring.source).toBe('environment');
    expect(ring.currentKeyId).toBe(masterKeyId(a));
    expect(openSecret(ring, sealed, ctx)).toBe('env secret');
    expect(sealedKeyId(resealSecret(ring, sealed, ctx))).toBe(masterKeyId(a));
    await expect(stat(path.join(dir, 'master.key'))).rejects.toThrow();
    expect(() => MasterKeyring.open(dir, 'dG9vIHNob3J0')).toThrow(/32 bytes/);
  });
});
