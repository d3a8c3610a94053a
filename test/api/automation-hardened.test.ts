import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { addSingleUseHost, removeHardenedInstalls } from '../support/hardened.js';
import { freePort } from '../support/peers.js';
import { haveSshd, isRoot, startSshd, type Sshd } from '../support/sshd.js';
import { added, exportFrom, importInto, REPOS, titlesOf } from './automation-support.js';

/**
 * A LinuxHardened repository on a managed Linux host (a real OpenSSH sshd on
 * loopback) moved to another server. Veeam requires single-use credentials on
 * a hardened repository's host, and a server with single-use credentials is
 * not exported (there is no credentials record to name): on the second server
 * the host is added by hand and given single-use credentials, then the
 * repository import logs in with them once, checks the folder's owner and
 * mode and installs Rampart's transport service (as root, with root's key:
 * the service needs root for the immutable attribute). Each server's service
 * listens on its own managementPort.
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
  const keyLine = () => sshd.userKey.split('\n')[1]!;

  /** Adds the sshd host (the 1.2 way, with single-use credentials) and stores single-use credentials for the next operation. */
  const addHost = async (t: TestServer, token: string) => addSingleUseHost({ t, token }, sshd, { serverName: '127.0.0.1', managementPort: await freePort() });

  beforeAll(async () => {
    [sshd, a, b] = await Promise.all([startSshd({ allowRootWithKey: true }), startTestServer(env), startTestServer(env)]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    root = await mkdtemp(path.join(tmpdir(), 'rampart-hardened-auto-'));
    folder = path.join(root, 'hardened');
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
    // The transport services outlive Rampart by design: stop the supervising loops this test started.
    for (const t of [a, b]) {
      const ids = t ? (await t.server.store.db.selectFrom('repositories').select('id').where('type', '=', 'LinuxHardened').execute()).map((r) => r.id) : [];
      await removeHardenedInstalls(ids);
    }
    await Promise.all([a?.cleanup(), b?.cleanup(), sshd?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the host stays behind; added by hand on B with single-use credentials, the repository imports after a login that uses them once, a check of owner and mode and the service install', async () => {
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
    expect([made.uid, made.mode & 0o777]).toEqual([0, 0o700]);

    // Without the host on B the reference does not resolve.
    const early = await importInto(b, tokenB, 'repositories', exported);
    expect(titlesOf(early.log)).toContain('Warning: Skipped LinuxHardened repository "immutable": missing repository host "127.0.0.1", mount server "127.0.0.1"');

    const hostB = await addHost(b, tokenB);
    const imported = await importInto(b, tokenB, 'repositories', exported);
    const titles = titlesOf(imported.log);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    expect(titles).toContain('Succeeded: Logged in to "127.0.0.1": the single-use credentials were used once and discarded');
    expect(titles).toContain(`Succeeded: Folder ${folder} exists`);
    expect(titles).toContain('Succeeded: Owner and mode root 700: fit for immutable backups');
    expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${folder}`);
    expect(titles).toContain('Succeeded: Created LinuxHardened repository "immutable"');
    expect(
      titles.some((title) => /Succeeded: Transport service installed and started on "127.0.0.1" port \d+ with the single-use credentials/.test(title)),
      titles.join('\n'),
    ).toBe(true);
    expect(imported.log.map((r) => r.title + r.description).join('\n')).not.toContain(keyLine());
    expect(await exportFrom(b, tokenB, 'repositories')).toEqual(exported);
    expect((await b.api.get(`${REPOS}?nameFilter=immutable`, { token: tokenB })).body.data[0]).toMatchObject({ hostId: hostB, repository: { makeRecentBackupsImmutableDays: 30 } });
    // Used once: nothing of them is left in B's vault.
    expect(await b.server.store.db.selectFrom('vault_secrets').select('field').where('owner_id', '=', hostB).execute()).toEqual([]);

    // Overwrite needs no login: the installed repository is checked through its transport service.
    const changed = structuredClone(exported);
    changed.LinuxHardenedRepositories[0].repository.makeRecentBackupsImmutableDays = 60;
    const over = await importInto(b, tokenB, 'repositories', changed, '?onConflict=overwrite');
    expect(over.session.result.result, titlesOf(over.log).join('\n')).toBe('Success');
    expect(titlesOf(over.log).some((title) => /Measuring the repository through its transport service/.test(title))).toBe(true);
    expect((await exportFrom(b, tokenB, 'repositories')).LinuxHardenedRepositories[0].repository.makeRecentBackupsImmutableDays).toBe(60);
  });
});
