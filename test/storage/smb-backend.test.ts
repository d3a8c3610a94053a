import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, openSmbBackend, type BlobBackend } from '../../src/chunkstore/index.js';
import { connectSmbShare, parseSharePath, splitUserName } from '../../src/storage/smb-client.js';
import { checkSmbShare, measureSmbShare } from '../../src/storage/smb-share.js';
import { silentSteps } from '../../src/storage/steps.js';
import { haveSmbd, SMB_PASSWORD, SMB_USER, startSmbd, type Smbd } from '../support/smbd.js';

/**
 * The SMB backend and share checks against a real Samba smbd: what the shared
 * backend contract (test/chunkstore/backends.test.ts) does not cover.
 */

const MiB = 1024 * 1024;

describe('share paths and user names', () => {
  it('parses UNC paths in either slash and refuses what is not one', () => {
    expect(parseSharePath('\\\\nas\\backups\\veeam\\repo')).toEqual({ server: 'nas', share: 'backups', folder: 'veeam\\repo' });
    expect(parseSharePath('//nas/backups/')).toEqual({ server: 'nas', share: 'backups', folder: '' });
    expect(parseSharePath('\\\\nas')).toBeUndefined();
    expect(parseSharePath('nas:/export')).toBeUndefined();
    expect(parseSharePath('\\\\nas\\backups\\..\\etc')).toBeUndefined();
    expect(splitUserName('CORP\\backup')).toEqual({ domain: 'CORP', username: 'backup' });
    expect(splitUserName('backup')).toEqual({ domain: '', username: 'backup' });
  });
});

describe.skipIf(!haveSmbd)('SMB backend on a real smbd', () => {
  let smbd: Smbd;
  let backend: BlobBackend;
  const login = { domain: '', username: SMB_USER, password: SMB_PASSWORD };

  beforeAll(async () => {
    smbd = await startSmbd();
    backend = await openSmbBackend({ sharePath: smbd.uncPath('store'), login });
  });
  afterAll(async () => {
    await backend?.close();
    await smbd?.stop();
  });

  it('writes land in the share folder as the SMB account; a missing key is BlobNotFoundError; ranges past the end are cut', async () => {
    const data = randomBytes(300_000);
    await backend.put('rampart/chunks/ab12/x', data);
    const file = path.join(smbd.shareDir, 'store', 'rampart', 'chunks', 'ab12', 'x');
    expect((await readFile(file)).equals(data)).toBe(true);
    expect((await stat(file)).uid).not.toBe(0);
    expect((await backend.get('rampart/chunks/ab12/x', { offset: 299_990, length: 100 })).equals(data.subarray(299_990))).toBe(true);
    expect((await backend.get('rampart/chunks/ab12/x', { offset: 65_530, length: 70_000 })).equals(data.subarray(65_530, 135_530))).toBe(true);
    await expect(backend.get('rampart/chunks/ab12/missing')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(backend.get('rampart/nowhere/at/all')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(backend.rename('rampart/chunks/ab12/missing', 'rampart/chunks/ab12/y')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await backend.head('rampart/chunks/ab12/missing')).toBeUndefined();
    expect(await backend.head('rampart/chunks/ab12')).toBeUndefined(); // a folder is not a blob
    const empty: string[] = [];
    for await (const b of backend.list('rampart/never/')) empty.push(b.key);
    expect(empty).toEqual([]);
    // No temp file is left behind by put or putIfAbsent.
    expect(await backend.putIfAbsent('rampart/chunks/ab12/x', Buffer.from('again'))).toBe(false);
    const all: string[] = [];
    for await (const b of backend.list('rampart/chunks/')) all.push(b.key);
    expect(all).toEqual(['rampart/chunks/ab12/x']);
  });

  it('lists a folder larger than one QUERY_DIRECTORY answer, with sizes and times', async () => {
    const started = Date.now() - 2000;
    const names = Array.from({ length: 700 }, (_, i) => `rampart/many/blob-with-a-longish-name-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((k, j) => backend.put(k, Buffer.alloc(i + j + 1, 1))));
    const listed = new Map<string, { size: number; modifiedMs: number }>();
    for await (const b of backend.list('rampart/many/')) listed.set(b.key, b);
    expect([...listed.keys()].sort()).toEqual(names);
    expect(listed.get(names[10]!)!.size).toBe(11);
    expect(listed.get(names[10]!)!.modifiedMs).toBeGreaterThan(started);
  });

  it('a refused login names the share and says so, and carries no password', async () => {
    const err = await openSmbBackend({ sharePath: smbd.uncPath('store'), login: { ...login, password: 'Wrong-Passw0rd' } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`Logging in to \\\\${smbd.address}\\backups as "${SMB_USER}": the login was refused (wrong user name or password)`);
    expect((err as Error).message).not.toContain('Wrong-Passw0rd');
    const noShare = await openSmbBackend({ sharePath: `\\\\${smbd.address}\\nosuch\\x`, login }).catch((e: Error) => e);
    expect((noShare as Error).message).toMatch(/no such share on the server/);
  });

  it('the share checks probe the folder and measure the volume; a refused login is a check failure', async () => {
    const figures = await checkSmbShare({ sharePath: smbd.uncPath('checked\\deep'), login }, silentSteps, { timeoutMs: 10_000 });
    expect((await stat(path.join(smbd.shareDir, 'checked', 'deep'))).isDirectory()).toBe(true);
    const fs = await import('node:fs/promises').then((m) => m.statfs(smbd.shareDir));
    expect(figures).toMatchObject({ source: 'filesystem', capacityBytes: fs.blocks * fs.bsize });
    expect(figures.freeBytes).toBeGreaterThan(0);
    expect((await measureSmbShare({ sharePath: smbd.uncPath(), login }, { timeoutMs: 10_000 })).capacityBytes).toBe(fs.blocks * fs.bsize);
    await expect(checkSmbShare({ sharePath: smbd.uncPath('x'), login: { ...login, password: 'nope' } }, silentSteps, { timeoutMs: 10_000 })).rejects.toThrow(
      `The SMB share \\\\${smbd.address}\\backups refused the login of "${SMB_USER}": the login was refused (wrong user name or password). Check the share's credentials.`,
    );
  });

  it('moves 64 MiB of 4 MiB blobs each way at a useful rate (printed)', async () => {
    const blob = randomBytes(4 * MiB);
    const count = 16;
    let t0 = performance.now();
    for (let i = 0; i < count; i++) await backend.put(`rampart/speed/${i}`, blob);
    const putSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    for (let i = 0; i < count; i++) expect((await backend.get(`rampart/speed/${i}`)).length).toBe(blob.length);
    const getSeconds = (performance.now() - t0) / 1000;
    const mib = (count * blob.length) / MiB;
    console.log(`SMB over loopback: put ${(mib / putSeconds).toFixed(1)} MiB/s, get ${(mib / getSeconds).toFixed(1)} MiB/s (64 MiB in 4 MiB blobs)`);
    // A floor far below what loopback gives, so a round trip per few KiB (or a hang) fails it even on a busy machine.
    expect(mib / putSeconds).toBeGreaterThan(4);
    expect(mib / getSeconds).toBeGreaterThan(4);
  }, 120_000);

  it('a server that requires signing or encryption is refused saying so', async () => {
    for (const [line, message] of [
      ['server signing = mandatory', /requires SMB signing, which Rampart's SMB client does not do/],
      ['smb encrypt = required', /refused access to "rampart-smb-test" \(a server that requires SMB encryption answers so too/],
    ] as const) {
      const strict = await startSmbd({ global: [line] });
      try {
        await expect(checkSmbShare({ sharePath: strict.uncPath('x'), login }, silentSteps, { timeoutMs: 10_000 })).rejects.toThrow(message);
      } finally {
        await strict.stop();
      }
    }
  }, 60_000);

  // Last: it ends every client connection, the shared backend's too.
  it('a dropped connection fails requests at once instead of hanging', async () => {
    const location = parseSharePath(smbd.uncPath())!;
    const share = await connectSmbShare(location, login, { timeoutMs: 30_000 });
    await share.makeFolder('drop');
    await smbd.kickClients();
    const t0 = Date.now();
    await expect(share.list('drop')).rejects.toThrow(/closed/);
    await expect(backend.get('rampart/chunks/ab12/x')).rejects.toThrow(/closed/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await share.close();
  });
});
