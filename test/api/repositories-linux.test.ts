import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { haveSshd, isRoot, startSshd, TEST_PASSWORD, TEST_USER, type Sshd } from '../support/sshd.js';
import { run } from '../support/tls.js';

/**
 * LinuxLocal and LinuxHardened repositories on a managed Linux host: a real
 * OpenSSH sshd on loopback, logged in to with the host's stored credentials,
 * the host key checked against the pin. Root is needed for the throwaway test
 * account and for folders that account cannot write.
 */

const SERVERS = '/api/v1/backupInfrastructure/managedServers';
const REPOS = '/api/v1/backupInfrastructure/repositories';
const GIB = 1024 ** 3;

describe.skipIf(!haveSshd || !isRoot)('repositories on a managed Linux host over a real sshd', () => {
  let t: TestServer;
  let token: string;
  let sshd: Sshd;
  let root: string;
  let userDir: string;
  let lockedDir: string;
  let serverId: string;
  let localId: string;

  async function finished(id: string) {
    for (let i = 0; i < 400; i++) {
      const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
      if (res.body.state === 'Stopped') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`session ${id} did not stop`);
  }
  async function logText(id: string): Promise<string> {
    const res = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
    return res.body.records.map((r: { status: string; title: string; description: string }) => `${r.status}: ${r.title} ${r.description}`).join('\n');
  }
  async function session(method: string, url: string, json?: unknown, version?: string) {
    const res = await t.api.request(method, url, { token, json, version });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    return { done, log: await logText(res.body.id), resourceId: res.body.resourceId as string };
  }
  const spec = (type: 'LinuxLocal' | 'LinuxHardened', name: string, folder: string) => ({
    type,
    name,
    description: `${name} on the sshd host`,
    hostId: serverId,
    repository: { path: folder, maxTaskCount: 2, ...(type === 'LinuxHardened' ? { makeRecentBackupsImmutableDays: 7 } : {}) },
    mountServer: { mountServerId: serverId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
  });
  const repositoryCount = async (name: string) => (await t.api.get(`${REPOS}?nameFilter=${encodeURIComponent(name)}`, { token })).body.pagination.total;
  const singleUseSecrets = () => t.server.store.db.selectFrom('vault_secrets').select('field').where('owner_id', '=', serverId).execute();
  async function giveSingleUse() {
    const res = await session('POST', `${SERVERS}/${serverId}/updateSingleUseCredentials`, { username: TEST_USER, password: TEST_PASSWORD, SSHPort: sshd.port }, '1.2-rev1');
    expect(res.done.result.result, res.log).toBe('Success');
    expect((await singleUseSecrets()).map((r) => r.field)).toEqual(['password']);
  }
  /** `df -P -B1` of the folder, as the repository's figures should show it: total and available bytes. */
  async function df(folder: string) {
    const out = (await run('df', ['-P', '-B1', folder])).stdout.trim().split('\n').pop()!.split(/\s+/);
    return { total: Number(out[1]), avail: Number(out[3]) };
  }

  beforeAll(async () => {
    sshd = await startSshd();
    t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' });
    token = await t.adminToken();
    // A root-owned tree the test account can traverse; one folder of its own, one it cannot write.
    root = await mkdtemp(path.join(tmpdir(), 'rampart-linux-repos-'));
    await chmod(root, 0o755);
    const uid = Number((await run('id', ['-u', TEST_USER])).stdout.trim());
    const gid = Number((await run('id', ['-g', TEST_USER])).stdout.trim());
    userDir = path.join(root, 'user');
    await mkdir(userDir, { mode: 0o755 });
    await chown(userDir, uid, gid);
    await mkdir(path.join(userDir, 'open'), { mode: 0o755 });
    await chmod(path.join(userDir, 'open'), 0o755);
    await chown(path.join(userDir, 'open'), uid, gid);
    lockedDir = path.join(root, 'locked');
    await mkdir(lockedDir, { mode: 0o755 });
    await chmod(lockedDir, 0o755);

    const creds = await t.api.post('/api/v1/credentials', {
      token,
      json: { type: 'Linux', username: TEST_USER, privateKey: sshd.userKey, SSHPort: sshd.port, description: 'sshd test account' },
    });
    expect(creds.status, creds.text).toBe(201);
    const probe = await t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId: creds.body.id, type: 'LinuxHost', port: sshd.port } });
    expect(probe.status, probe.text).toBe(201);
    const added = await session('POST', SERVERS, {
      name: '127.0.0.1',
      description: 'repository host',
      type: 'LinuxHost',
      credentialsId: creds.body.id,
      sshFingerprint: probe.body.fingerprint,
    });
    expect(added.done.result.result, added.log).toBe('Success');
    serverId = added.resourceId;
  });
  afterAll(async () => {
    await t?.cleanup();
    await sshd?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('LinuxLocal in a folder the account can write: created over SSH, probed, measured as df measures it', async () => {
    const folder = path.join(userDir, 'local');
    const { done, log, resourceId } = await session('POST', REPOS, spec('LinuxLocal', 'Linux local', folder));
    expect(done.result.result, log).toBe('Success');
    localId = resourceId;
    expect(log).toMatch(/Logged in to "127.0.0.1"/);
    expect(log).toMatch(/Folder .* created/);
    expect(log).toMatch(/Wrote, read back and deleted a probe file/);
    // Created by the test account over SSH, not by this process.
    const made = await stat(folder);
    expect(made.uid).toBe(Number((await run('id', ['-u', TEST_USER])).stdout.trim()));
    expect(made.mode & 0o777).toBe(0o700);
    expect(await readdir(folder)).toEqual([]);

    const expected = await df(folder);
    const states = await t.api.get(`${REPOS}/states?idFilter=${localId}`, { token, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } });
    expect(states.status).toBe(200);
    const state = states.body.data[0];
    expect(state).toMatchObject({ id: localId, type: 'LinuxLocal', isOnline: true, capacitySource: 'filesystem', path: folder, hostId: serverId });
    expect(state.capacityGB).toBe(Math.round((expected.total / GIB) * 100) / 100);
    expect(Math.abs(state.freeGB - expected.avail / GIB)).toBeLessThan(0.5);
    expect(state.capacityGB).toBeGreaterThan(0);

    // An on-demand rescan measures it again over SSH with the permanent credentials.
    const rescan = await t.api.post(`${REPOS}/rescan`, { token, version: '1.2-rev1', json: { repositoryIds: [localId] } });
    expect(rescan.status, rescan.text).toBe(201);
    const rescanned = await finished(rescan.body.id);
    expect(rescanned.result.result, await logText(rescan.body.id)).toBe('Success');
  });

  it('a folder the account cannot write: Failed saying why, nothing stored', async () => {
    const inside = await session('POST', REPOS, spec('LinuxLocal', 'Under root', path.join(lockedDir, 'repo')));
    expect(inside.done.result.result).toBe('Failed');
    expect(inside.done.result.message).toMatch(/Cannot create the folder .*locked\/repo on the host: .*Permission denied/);
    const itself = await session('POST', REPOS, spec('LinuxLocal', 'Root owned', lockedDir));
    expect(itself.done.result.result).toBe('Failed');
    expect(itself.done.result.message).toMatch(/Cannot write to .*locked on the host: .*Permission denied/);
    expect(await repositoryCount('Under root')).toBe(0);
    expect(await repositoryCount('Root owned')).toBe(0);
    expect(await readdir(lockedDir)).toEqual([]);
  });

  it('LinuxHardened: refused on permanent credentials; with single-use ones the folder owner and mode are checked, the credentials are used once, and an account that cannot become root cannot install the transport service', async () => {
    const refused = await t.api.post(REPOS, { token, json: spec('LinuxHardened', 'Hardened', path.join(userDir, 'hardened')) });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/single-use credentials/);
    expect(refused.body.message).toContain(`/managedServers/${serverId}/updateSingleUseCredentials`);

    await giveSingleUse();
    // The account owns the folder but it is open to others (0755): not fit for immutability.
    const open = await session('POST', REPOS, spec('LinuxHardened', 'Hardened open', path.join(userDir, 'open')));
    expect(open.done.result.result, open.log).toBe('Failed');
    expect(open.done.result.message).toMatch(/has mode 755; .*chmod 700/);
    expect(open.log).toMatch(/single-use credentials were used once and discarded/);
    expect(await singleUseSecrets()).toEqual([]);
    expect(await repositoryCount('Hardened open')).toBe(0);

    // Used up: the next attempt says to give new ones and logs in to nothing.
    const again = await session('POST', REPOS, spec('LinuxHardened', 'Hardened', path.join(userDir, 'hardened')));
    expect(again.done.result.result).toBe('Failed');
    expect(again.done.result.message).toMatch(/single-use credentials of server "127.0.0.1" were already used/);

    // The folder is fit, but the transport service must run as root (test/api/immutable-repositories.test.ts installs it with root's key).
    await giveSingleUse();
    const folder = path.join(userDir, 'hardened');
    const notRoot = await session('POST', REPOS, spec('LinuxHardened', 'Hardened', folder));
    expect(notRoot.done.result.result, notRoot.log).toBe('Failed');
    expect(notRoot.log).toMatch(/Owner and mode rampart-ssh-test 700: fit for immutable backups/);
    expect(notRoot.done.result.message).toMatch(/neither root nor allowed passwordless sudo/);
    expect(await singleUseSecrets()).toEqual([]);
    expect(await repositoryCount('Hardened')).toBe(0);
    expect(notRoot.log + notRoot.done.result.message).not.toContain(TEST_PASSWORD);

    // Single-use credentials given for the next operation are never used up by the background refresh
    // (the LinuxLocal repository on this host is not measured while the host keeps single-use credentials).
    await giveSingleUse();
    const pass = await t.server.repositories.refresher.refreshAll();
    expect(pass.failed).toBe(0);
    expect((await singleUseSecrets()).map((r) => r.field)).toEqual(['password']);
  });

  it('removing the managed server while repositories use it: the deletion session fails naming them; the server stays', async () => {
    const removal = await session('DELETE', `${SERVERS}/${serverId}`);
    expect(removal.done.result.result).toBe('Failed');
    expect(removal.done.result.message).toMatch(/cannot be removed: it is used by repository "Linux local"/);
    expect(removal.done.result.message).toContain(localId);
    expect((await t.api.get(`${SERVERS}/${serverId}`, { token })).status).toBe(200);
  });
});
