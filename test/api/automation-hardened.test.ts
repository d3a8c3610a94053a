import { chmod, chown, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { haveSshd, isRoot, startSshd, TEST_PASSWORD, TEST_USER, type Sshd } from '../support/sshd.js';
import { run } from '../support/tls.js';
import { added, exportFrom, importInto, infrastructureRows, REPOS, SERVERS, titlesOf } from './automation-support.js';

/**
 * A LinuxHardened repository on a managed Linux host (a real OpenSSH sshd on
 * loopback) moved to another server. Veeam requires single-use credentials on
 * a hardened repository's host, and a server with single-use credentials is
 * not exported (there is no credentials record to name): on the second server
 * the host is added by hand and given single-use credentials, then the
 * repository import logs in with them once and checks the folder's owner and
 * mode. Root is needed for the throwaway test account.
 */

describe.skipIf(!haveSshd || !isRoot)('automation of a LinuxHardened repository on a managed Linux host (real sshd, single-use credentials)', () => {
  let sshd: Sshd;
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;
  let root: string;
  let folder: string;
  const env = { RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' };
  const singleUse = () => ({ username: TEST_USER, password: TEST_PASSWORD, SSHPort: sshd.port });

  /** Adds the sshd host (the 1.2 way, with single-use credentials) and stores single-use credentials for the next operation. */
  async function addHost(t: TestServer, token: string): Promise<string> {
    const probe = await t.api.post('/api/v1/connectionCertificate', {
      token,
      version: '1.2-rev1',
      json: { serverName: '127.0.0.1', type: 'LinuxHost', port: sshd.port, credentialsStorageType: 'SingleUse', singleUseCredentials: singleUse() },
    });
    expect(probe.status, probe.text).toBe(201);
    const res = await t.api.post(SERVERS, {
      token,
      version: '1.2-rev1',
      json: {
        name: '127.0.0.1',
        description: 'hardened host',
        type: 'LinuxHost',
        credentialsStorageType: 'SingleUse',
        singleUseCredentials: singleUse(),
        sshFingerprint: probe.body.fingerprint,
        port: sshd.port,
      },
    });
    expect(res.status, res.text).toBe(201);
    await t.server.runner.settled(res.body.id);
    expect((await t.api.get(`/api/v1/sessions/${res.body.id}`, { token })).body.result.result).toBe('Success');
    await giveSingleUse(t, token, res.body.resourceId);
    return res.body.resourceId;
  }
  async function giveSingleUse(t: TestServer, token: string, id: string) {
    const res = await t.api.post(`${SERVERS}/${id}/updateSingleUseCredentials`, { token, version: '1.2-rev1', json: singleUse() });
    expect(res.status, res.text).toBe(201);
    await t.server.runner.settled(res.body.id);
    expect((await t.api.get(`/api/v1/sessions/${res.body.id}`, { token })).body.result.result).toBe('Success');
  }

  beforeAll(async () => {
    [sshd, a, b] = await Promise.all([startSshd(), startTestServer(env), startTestServer(env)]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    // A root-owned tree the test account can traverse, with a folder of its own where it makes the repository folder (700).
    root = await mkdtemp(path.join(tmpdir(), 'rampart-hardened-auto-'));
    await chmod(root, 0o755);
    const userDir = path.join(root, 'user');
    await mkdir(userDir, { mode: 0o755 });
    await chown(userDir, Number((await run('id', ['-u', TEST_USER])).stdout.trim()), Number((await run('id', ['-g', TEST_USER])).stdout.trim()));
    folder = path.join(userDir, 'hardened');
    const hostId = await addHost(a, tokenA);
    await added(a, tokenA, REPOS, {
      type: 'LinuxHardened',
      name: 'immutable',
      description: 'hardened on sshd',
      tag: 'hr-1',
      hostId,
      repository: { path: folder, makeRecentBackupsImmutableDays: 30, maxTaskCount: 2 },
      mountServer: { mountServerId: hostId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
  });
  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup(), sshd?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the host stays behind; added by hand on B with single-use credentials, the repository imports after a login that uses them once and a check of owner and mode', async () => {
    // Servers with single-use credentials have no credentials record to name: not exported.
    expect((await exportFrom(a, tokenA, 'managedServers')).linuxHosts).toEqual([]);
    const exported = await exportFrom(a, tokenA, 'repositories');
    expect(exported.LinuxHardenedRepositories).toEqual([
      {
        name: 'immutable',
        description: 'hardened on sshd',
        tag: 'hr-1',
        kind: 'LocalStorage',
        type: 'LinuxHardened',
        hostName: '127.0.0.1',
        repository: { path: folder, makeRecentBackupsImmutableDays: 30, maxTaskCount: 2 },
        mountServer: { mountServerName: '127.0.0.1', writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
      },
    ]);
    const made = await stat(folder);
    expect([made.uid, made.mode & 0o777]).toEqual([Number((await run('id', ['-u', TEST_USER])).stdout.trim()), 0o700]);

    // Without the host on B the reference does not resolve.
    const early = await importInto(b, tokenB, 'repositories', exported);
    expect(titlesOf(early.log)).toContain('Warning: Skipped LinuxHardened repository "immutable": missing repository host "127.0.0.1", mount server "127.0.0.1"');

    const hostB = await addHost(b, tokenB);
    const imported = await importInto(b, tokenB, 'repositories', exported);
    const titles = titlesOf(imported.log);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    expect(titles).toContain('Succeeded: Logged in to "127.0.0.1": the single-use credentials were used once and discarded');
    expect(titles).toContain(`Succeeded: Folder ${folder} exists`);
    expect(titles).toContain(`Succeeded: Owner and mode ${TEST_USER} 700: fit for immutable backups`);
    expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${folder}`);
    expect(titles).toContain('Succeeded: Created LinuxHardened repository "immutable"');
    expect(imported.log.map((r) => r.title + r.description).join('\n')).not.toContain(TEST_PASSWORD);
    expect(await exportFrom(b, tokenB, 'repositories')).toEqual(exported);
    expect((await b.api.get(`${REPOS}?nameFilter=immutable`, { token: tokenB })).body.data[0]).toMatchObject({ hostId: hostB, repository: { makeRecentBackupsImmutableDays: 30 } });
    // Used once: nothing of them is left in B's vault.
    expect(await b.server.store.db.selectFrom('vault_secrets').select('field').where('owner_id', '=', hostB).execute()).toEqual([]);

    // Overwrite needs a login again: with the single-use credentials used up it fails, and the repository keeps what it had.
    const changed = structuredClone(exported);
    changed.LinuxHardenedRepositories[0].repository.makeRecentBackupsImmutableDays = 60;
    const before = await infrastructureRows(b);
    const refused = await importInto(b, tokenB, 'repositories', changed, '?onConflict=overwrite');
    expect(refused.session.result.result).toBe('Failed');
    expect(refused.log.find((r) => r.title === 'Could not import LinuxHardened repository "immutable"')?.description).toMatch(
      /single-use credentials of server "127.0.0.1" were already used/,
    );
    expect(await infrastructureRows(b)).toEqual(before);
    // With new ones it goes through.
    await giveSingleUse(b, tokenB, hostB);
    const over = await importInto(b, tokenB, 'repositories', changed, '?onConflict=overwrite');
    expect(over.session.result.result, titlesOf(over.log).join('\n')).toBe('Success');
    expect((await exportFrom(b, tokenB, 'repositories')).LinuxHardenedRepositories[0].repository.makeRecentBackupsImmutableDays).toBe(60);
  });
});
