import { mkdtemp, rm, chown } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSshHostKey } from '../../src/probe/ssh-probe.js';
import { BlobNotFoundError, localFolderBackend, openS3Backend, openSftpBackend, openSmbBackend, type BlobBackend } from '../../src/chunkstore/index.js';
import { startLocalS3, S3_ACCESS_KEY, S3_SECRET_KEY, type LocalS3 } from '../support/s3.js';
import { haveSshd, isRoot, startSshd, TEST_USER, type Sshd } from '../support/sshd.js';
import { haveSmbd, SMB_PASSWORD, SMB_USER, startSmbd, type Smbd } from '../support/smbd.js';
import { restorePointRoundTrip } from './helpers.js';

/** The same checks on every backend: the BlobBackend contract, then a restore point round trip through the store. */
function backendContract(name: string, open: () => Promise<BlobBackend>) {
  describe(name, () => {
    let backend: BlobBackend;
    beforeAll(async () => {
      backend = await open();
    });
    afterAll(() => backend?.close());

    it('puts atomically, reads whole and by range, lists, renames, touches, deletes', async () => {
      const data = Buffer.from('0123456789'.repeat(10_000));
      await backend.put('rampart/t/a/one', data);
      expect((await backend.get('rampart/t/a/one')).equals(data)).toBe(true);
      expect((await backend.get('rampart/t/a/one', { offset: 5, length: 7 })).toString()).toBe('5678901');
      expect(await backend.putIfAbsent('rampart/t/a/one', Buffer.from('other'))).toBe(false);
      expect((await backend.get('rampart/t/a/one')).equals(data)).toBe(true);
      expect(await backend.putIfAbsent('rampart/t/b/two', Buffer.from('two'))).toBe(true);
      await backend.put('rampart/t/a/one', Buffer.from('replaced'));
      expect((await backend.get('rampart/t/a/one')).toString()).toBe('replaced');
      const listed: string[] = [];
      for await (const b of backend.list('rampart/t/')) listed.push(b.key);
      expect(listed.sort()).toEqual(['rampart/t/a/one', 'rampart/t/b/two']);
      const before = (await backend.head('rampart/t/b/two'))!;
      expect(before.size).toBe(3);
      await new Promise((r) => setTimeout(r, 1100));
      await backend.touch('rampart/t/b/two');
      expect((await backend.head('rampart/t/b/two'))!.modifiedMs).toBeGreaterThan(before.modifiedMs);
      await backend.rename('rampart/t/b/two', 'rampart/t/b/two.bad');
      expect(await backend.head('rampart/t/b/two')).toBeUndefined();
      expect((await backend.get('rampart/t/b/two.bad')).toString()).toBe('two');
      await backend.delete('rampart/t/b/two.bad');
      await backend.delete('rampart/t/b/never-was');
      await expect(backend.get('rampart/t/b/two.bad')).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(backend.head('../escape')).rejects.toThrow(/not a valid blob key/);
    });

    it('stores a restore point and reads it back byte-identical, verified', () => restorePointRoundTrip(backend, 'Backend-Pw-1'));
  });
}

let localDir: string;
backendContract('local folder backend', async () => {
  localDir = await mkdtemp(path.join(tmpdir(), 'rampart-backend-'));
  return localFolderBackend(localDir);
});
afterAll(() => (localDir ? rm(localDir, { recursive: true, force: true }) : undefined));

let sshd: Sshd | undefined;
let sftpDir: string | undefined;
describe.skipIf(!haveSshd)('over a real OpenSSH sshd', () => {
  beforeAll(async () => {
    sshd = await startSshd();
    sftpDir = await mkdtemp(path.join(tmpdir(), 'rampart-sftp-repo-'));
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', TEST_USER]).toString());
      const gid = Number(execFileSync('id', ['-g', TEST_USER]).toString());
      await chown(sftpDir, uid, gid);
    }
  });
  afterAll(async () => {
    await sshd?.stop();
    if (sftpDir) await rm(sftpDir, { recursive: true, force: true });
  });
  backendContract('SFTP backend', async () => {
    const key = await probeSshHostKey('127.0.0.1', sshd!.port, { timeoutMs: 5000, hostKeyAlgorithm: 'ssh-ed25519' });
    return openSftpBackend({
      host: '127.0.0.1',
      port: sshd!.port,
      login: { username: TEST_USER, privateKey: sshd!.userKey },
      fingerprint: key.fingerprint,
      hostKeyAlgorithm: key.algorithm,
      folder: `${sftpDir}/repo`,
    });
  });
});

let s3: LocalS3 | undefined;
describe('on an S3-protocol server (s3rver)', () => {
  beforeAll(async () => {
    s3 = await startLocalS3(['rampart-store']);
    await s3.client.send(new CreateBucketCommand({ Bucket: 'rampart-store' })).catch(() => undefined);
  });
  afterAll(() => s3?.stop());
  backendContract('S3 backend', async () =>
    openS3Backend({
      endpoint: s3!.endpoint,
      region: 'us-east-1',
      bucket: 'rampart-store',
      folder: 'veeam/repo1',
      accessKey: S3_ACCESS_KEY,
      secretKey: S3_SECRET_KEY,
      forcePathStyle: true,
    }),
  );
});

let smbd: Smbd | undefined;
describe.skipIf(!haveSmbd)('on a real Samba smbd', () => {
  beforeAll(async () => {
    smbd = await startSmbd();
  });
  afterAll(() => smbd?.stop());
  backendContract('SMB backend', async () => openSmbBackend({ sharePath: smbd!.uncPath('veeam\\repo1'), login: { domain: '', username: SMB_USER, password: SMB_PASSWORD } }));
});
