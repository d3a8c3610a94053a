import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTlsMaterial, startSsh2Peer, sshKeyPair, startTlsPeer, type Peer } from '../support/peers.js';
import { haveSshd, startSshd, TEST_USER, type Sshd } from '../support/sshd.js';
import { run } from '../support/tls.js';
import { startVcsim, VCSIM_PASSWORD, VCSIM_USER, type Vcsim } from '../support/vcsim.js';

const BASE = '/api/v1/backupInfrastructure/managedServers';
/** Asks for Rampart's own fields (pins, status reasons, host facts, SSH/TLS ports) beside the documented ones. */
const EXTRAS = { 'x-rampart-extras': 'true' };
const NIL = '00000000-0000-0000-0000-000000000000';

let t: TestServer;
let token: string;
const peers: Peer[] = [];

async function finished(id: string) {
  for (let i = 0; i < 300; i++) {
    const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
    if (res.body.state === 'Stopped') return res.body;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`session ${id} did not stop`);
}

async function logText(id: string): Promise<string> {
  const logs = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
  return logs.body.records.map((r: any) => `${r.status}: ${r.title} ${r.description}`).join('\n');
}

async function credentials(json: Record<string, unknown>): Promise<string> {
  const res = await t.api.post('/api/v1/credentials', { token, json });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function fingerprintOf(credentialsId: string, port: number): Promise<string> {
  const res = await t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId, type: 'LinuxHost', port } });
  expect(res.status).toBe(201);
  return res.body.fingerprint;
}

/** POST or PUT that starts a session: 201 + SessionModel, then waits for its end. */
async function session(method: string, url: string, json?: unknown, version?: string) {
  const res = await t.api.request(method, url, { token, json, version });
  expect(res.status, res.text).toBe(201);
  expect(res.body).toMatchObject({ sessionType: method === 'DELETE' ? 'InfrastructureItemDeletion' : 'Infrastructure', state: 'Working' });
  const done = await finished(res.body.id);
  return { done, log: await logText(res.body.id), resourceId: res.body.resourceId as string };
}

beforeAll(async () => {
  t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '3000' });
  t.api.strict = true;
  token = await t.adminToken();
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await t.cleanup();
});

describe('the backup server itself', () => {
  it('is listed as a LinuxHost named after this machine, and cannot be removed or turned into another host', async () => {
    const list = await t.api.get(`${BASE}?typeFilter=LinuxHost`, { token, headers: EXTRAS });
    const self = list.body.data.find((s: any) => s.isBackupServer);
    expect(self).toMatchObject({ name: hostname(), type: 'LinuxHost', status: 'Available', credentialsId: NIL, credentialsStorageType: 'Permanent' });
    expect(self.hostInfo.kernel).toMatch(/^Linux /);
    const del = await t.api.request('DELETE', `${BASE}/${self.id}`, { token });
    expect(del.status).toBe(400);
    expect(del.body.message).toMatch(/backup server itself/);
    const rename = await t.api.request('PUT', `${BASE}/${self.id}`, { token, json: { ...self, name: 'elsewhere.example' } });
    expect(rename.status).toBe(400);
    const edited = await session('PUT', `${BASE}/${self.id}`, { ...self, description: 'This machine' });
    expect(edited.done.result.result).toBe('Success');
    expect((await t.api.get(`${BASE}/${self.id}`, { token })).body.description).toBe('This machine');
  });
});

describe('LinuxHost against an in-process ssh2 server', () => {
  let peer: Peer & { logins: string[] };
  let credsId: string;
  let fingerprint: string;
  let serverId: string;
  const hostKey = sshKeyPair();

  beforeAll(async () => {
    peer = await startSsh2Peer({ hostKeys: [hostKey.private], username: 'backup', password: 'Peer-Pw-1' });
    peers.push(peer);
    credsId = await credentials({ type: 'Linux', username: 'backup', password: 'Peer-Pw-1', SSHPort: peer.port, uniqueId: 'peer' });
    fingerprint = await fingerprintOf(credsId, peer.port);
  });

  it('refuses a fingerprint that does not match, saying both values; nothing is stored', async () => {
    const wrong = 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, '');
    const { done, log } = await session('POST', BASE, { name: '127.0.0.1', description: 'x', type: 'LinuxHost', credentialsId: credsId, sshFingerprint: wrong });
    expect(done.result.result).toBe('Failed');
    expect(done.result.message).toContain(wrong);
    expect(done.result.message).toContain(fingerprint);
    expect(log).toMatch(/does not match/);
    expect(peer.logins).toEqual([]);
    expect((await t.api.get(`${BASE}?nameFilter=127.0.0.1`, { token })).body.pagination.total).toBe(0);
  });

  it('fails clearly with a wrong password; nothing is stored', async () => {
    const wrongCreds = await credentials({ type: 'Linux', username: 'backup', password: 'not-it', SSHPort: peer.port, uniqueId: 'wrong' });
    const { done } = await session('POST', BASE, { name: '127.0.0.1', description: 'x', type: 'LinuxHost', credentialsId: wrongCreds, sshFingerprint: fingerprint });
    expect(done.result.result).toBe('Failed');
    expect(done.result.message).toMatch(/refused the login of user "backup" with the password/);
    expect(done.result.message).not.toContain('not-it');
    expect((await t.api.get(`${BASE}?nameFilter=127.0.0.1`, { token })).body.pagination.total).toBe(0);
  });

  it('adds the server: probes, compares, logs in, learns the OS, stores it with its pin', async () => {
    // The pin may be given in any form: here as hex of the SHA-256.
    const hex = Buffer.from(fingerprint.slice(7), 'base64')
      .toString('hex')
      .toUpperCase()
      .replace(/(..)(?!$)/g, '$1:');
    const { done, log, resourceId } = await session('POST', BASE, {
      name: '127.0.0.1',
      description: 'Linux stand-in',
      type: 'LinuxHost',
      credentialsId: credsId,
      sshFingerprint: hex,
    });
    expect(done.result).toMatchObject({ result: 'Success', message: 'Server "127.0.0.1" has been added.' });
    expect(log).toMatch(/presents SSH host key SHA256:/);
    expect(log).toMatch(/Logging in to 127.0.0.1:\d+ as "backup" with a password/);
    expect(log).toMatch(/Stand-in Linux 1.0; Linux 6.1.0-test x86_64/);
    expect(log).not.toContain('Peer-Pw-1');
    serverId = resourceId;
    const got = await t.api.get(`${BASE}/${serverId}`, { token, headers: EXTRAS });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: serverId,
      name: '127.0.0.1',
      description: 'Linux stand-in',
      type: 'LinuxHost',
      credentialsId: credsId,
      status: 'Available',
      credentialsStorageType: 'Permanent',
      sshSettings: { sshTimeOutMs: 20000, portRangeStart: 2500, portRangeEnd: 3300, serverThisSide: false, managementPort: 6162 },
      sshFingerprint: fingerprint,
      sshHostKeyAlgorithm: 'ssh-ed25519',
      port: peer.port,
      hostInfo: { osName: 'Stand-in Linux 1.0', kernel: 'Linux 6.1.0-test', architecture: 'x86_64', rootFreeBytes: 600000 * 1024 },
    });
    // Without the extras header each document gets exactly its own fields (strict conformance checks the rest).
    const v12 = (await t.api.get(`${BASE}/${serverId}`, { token, version: '1.2-rev1' })).body;
    expect(v12.sshSettings).toEqual({ sshTimeOutMs: 20000, portRangeStart: 2500, portRangeEnd: 3300, serverSide: false, managementPort: 6162 });
    for (const own of ['port', 'isBackupServer', 'sshFingerprint', 'hostInfo', 'statusReason']) expect(v12).not.toHaveProperty(own);
    const v13 = (await t.api.get(`${BASE}/${serverId}`, { token, version: '1.3-rev2' })).body;
    expect(v13).toMatchObject({ status: 'Available', isBackupServer: false, sshSettings: { sshTimeOutMs: 20000, portRangeStart: 2500, portRangeEnd: 3300, serverSide: false } });
    expect(v13.sshSettings).not.toHaveProperty('managementPort');
    expect(v13).not.toHaveProperty('port');
    const duplicate = await t.api.post(BASE, { token, json: { name: '127.0.0.1', description: 'x', type: 'LinuxHost', credentialsId: credsId, sshFingerprint: fingerprint } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.message).toMatch(/already exists/);
  });

  it('credentials in use by the server cannot be removed', async () => {
    const res = await t.api.request('DELETE', `/api/v1/credentials/${credsId}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/managed server "127.0.0.1"/);
  });

  it('a rescan that sees another host key marks the server Unavailable, logs old and new, and trusts nothing; an edit naming the new key re-pins', async () => {
    const ok = await session('POST', `${BASE}/${serverId}/rescan`);
    expect(ok.done.result.result).toBe('Success');
    await peer.close();
    const otherKey = sshKeyPair();
    const impostor = await startSsh2Peer({ hostKeys: [otherKey.private], username: 'backup', password: 'Peer-Pw-1' }, '127.0.0.1', peer.port);
    peers.push(impostor);
    const logins = impostor.logins.length;
    const changed = await session('POST', `${BASE}/${serverId}/rescan`);
    expect(changed.done.result.result).toBe('Failed');
    const newFingerprint = await fingerprintOf(credsId, peer.port);
    expect(changed.log).toContain(fingerprint);
    expect(changed.log).toContain(newFingerprint);
    expect(impostor.logins.length).toBe(logins);
    const model = (await t.api.get(`${BASE}/${serverId}`, { token, headers: EXTRAS })).body;
    expect(model).toMatchObject({ status: 'Unavailable', sshFingerprint: fingerprint, statusReason: expect.stringContaining(newFingerprint) });
    // An edit that echoes the model (old pin) is refused the same way.
    const echo = await session('PUT', `${BASE}/${serverId}`, model);
    expect(echo.done.result.result).toBe('Failed');
    const repin = await session('PUT', `${BASE}/${serverId}`, { ...model, sshFingerprint: newFingerprint, description: 'rebuilt' });
    expect(repin.done.result.result).toBe('Warning');
    expect(repin.log).toMatch(/re-pinned/);
    expect((await t.api.get(`${BASE}/${serverId}`, { token, headers: EXTRAS })).body).toMatchObject({
      status: 'Available',
      sshFingerprint: newFingerprint,
      description: 'rebuilt',
    });
    expect((await t.api.get(`${BASE}/${serverId}`, { token, headers: EXTRAS })).body).not.toHaveProperty('statusReason');
  });

  it('updateSingleUseCredentials stores them sealed; the next operation uses them once, then they are gone', async () => {
    const res = await session('POST', `${BASE}/${serverId}/updateSingleUseCredentials`, { username: 'backup', password: 'Peer-Pw-1', elevateToRoot: false }, '1.2-rev1');
    expect(res.done.result.result).toBe('Success');
    expect((await t.api.get(`${BASE}/${serverId}`, { token, headers: EXTRAS })).body).toMatchObject({ credentialsStorageType: 'SingleUse', credentialsId: NIL });
    const sealed = await t.server.store.db.selectFrom('vault_secrets').select(['field', 'sealed_value']).where('owner_id', '=', serverId).execute();
    expect(sealed.map((r) => r.field)).toEqual(['password']);
    expect(sealed[0]!.sealed_value).not.toContain('Peer-Pw-1');
    const first = await session('POST', `${BASE}/${serverId}/rescan`);
    expect(first.done.result.result).toBe('Success');
    expect(first.log).toMatch(/used once and discarded/);
    expect(await t.server.store.db.selectFrom('vault_secrets').select('field').where('owner_id', '=', serverId).execute()).toEqual([]);
    const second = await session('POST', `${BASE}/${serverId}/rescan`);
    expect(second.done.result.result).toBe('Warning');
    expect(second.log).toMatch(/already used/);
  });

  it('removal fails naming what uses the server, and the server stays; then it goes', async () => {
    const unregister = t.server.vault.references.register('managedServer', async (_db, id) => (id === serverId ? [{ kind: 'repository', id: 'r-1', name: 'Linux repo' }] : []));
    const refused = await session('DELETE', `${BASE}/${serverId}`);
    expect(refused.done.result.result).toBe('Failed');
    expect(refused.done.result.message).toMatch(/used by repository "Linux repo"/);
    expect((await t.api.get(`${BASE}/${serverId}`, { token })).status).toBe(200);
    unregister();
    const removed = await session('DELETE', `${BASE}/${serverId}`, undefined, '1.0-rev1');
    expect(removed.done.result.result).toBe('Success');
    expect((await t.api.get(`${BASE}/${serverId}`, { token })).status).toBe(404);
  });
});

describe('ViHost against vcsim, WindowsHost against a local TLS stand-in', () => {
  let standard: string;
  let vi: Peer & { requests: string[] };
  let vcsim: Vcsim;
  let thumbprint: string;
  beforeAll(async () => {
    standard = await credentials({ type: 'Standard', username: VCSIM_USER, password: VCSIM_PASSWORD });
    const material = await makeTlsMaterial('ec', { chained: true, cn: 'vcenter.test' });
    // On :: so every loopback address (127.0.0.x, ::1) reaches them.
    vi = await startTlsPeer(material, '::');
    peers.push(vi);
    vcsim = await startVcsim({ listen: '::' });
    peers.push({ port: vcsim.port, close: vcsim.stop });
    thumbprint = vcsim.thumbprint.replace(/:/g, '');
  });

  it('adds a ViHost after checking the thumbprint and logging in to vSphere', async () => {
    const { done, log, resourceId } = await session('POST', BASE, {
      name: '127.0.0.1',
      description: 'vCenter simulator',
      type: 'ViHost',
      credentialsId: standard,
      port: vcsim.port,
      certificateThumbprint: thumbprint.toLowerCase(),
    });
    expect(done.result.result, log).toBe('Success');
    expect(log).toContain(`Succeeded: Logged in to 127.0.0.1:${vcsim.port} as "${VCSIM_USER}": VMware vCenter Server 6.5.0`);
    expect(log).not.toContain(VCSIM_PASSWORD);
    expect((await t.api.get(`${BASE}/${resourceId}`, { token, headers: EXTRAS })).body).toMatchObject({
      type: 'ViHost',
      viHostType: 'VC',
      port: vcsim.port,
      credentialsId: standard,
      status: 'Available',
      certificateThumbprint: thumbprint,
    });
    // ViHostModel documents `port` in every revision, but neither the pinned thumbprint nor (in 1.3) isBackupServer.
    const v13 = (await t.api.get(`${BASE}/${resourceId}`, { token, version: '1.3-rev1' })).body;
    expect(v13).toMatchObject({ type: 'ViHost', port: vcsim.port, status: 'Available' });
    expect(v13).not.toHaveProperty('isBackupServer');
    expect(v13).not.toHaveProperty('certificateThumbprint');
    expect((await t.api.get(`${BASE}?viTypeFilter=VC`, { token })).body.data.map((s: any) => s.id)).toEqual([resourceId]);
    expect((await t.api.get(`${BASE}?viTypeFilter=ESXi`, { token })).body.pagination.total).toBe(0);
  });

  it('fails the session saying the password is wrong, and stores nothing', async () => {
    // vcsim knows one account: any other user name or password is refused the same way.
    const wrongPassword = await credentials({ type: 'Standard', username: 'operator@vsphere.local', password: 'Not-The-Password-1' });
    const failed = await session('POST', BASE, {
      name: '127.0.0.4',
      description: '',
      type: 'ViHost',
      credentialsId: wrongPassword,
      port: vcsim.port,
      certificateThumbprint: thumbprint,
    });
    expect(failed.done.result.result).toBe('Failed');
    expect(failed.done.result.message).toBe(`Cannot log in to 127.0.0.4:${vcsim.port}: incorrect user name or password`);
    expect(failed.log).not.toContain('Not-The-Password-1');
    expect((await t.api.get(`${BASE}?nameFilter=127.0.0.4`, { token })).body.pagination.total).toBe(0);
  });

  it('refuses a wrong thumbprint saying both; without one, trusts on first use with a warning', async () => {
    const wrong = await session('POST', BASE, {
      name: '127.0.0.2',
      description: '',
      type: 'ViHost',
      credentialsId: standard,
      port: vcsim.port,
      certificateThumbprint: 'AB'.repeat(20),
    });
    expect(wrong.done.result.result).toBe('Failed');
    expect(wrong.done.result.message).toContain('AB'.repeat(20));
    expect(wrong.done.result.message).toContain(thumbprint);
    const tofu = await session('POST', BASE, { name: '::1', description: '', type: 'ViHost', credentialsId: standard, port: vcsim.port, viHostType: 'ESXi' });
    expect(tofu.done.result.result).toBe('Warning');
    expect(tofu.log).toMatch(/trust on first use/);
    // vcsim simulates a vCenter: asked for an ESXi host, the session says so.
    expect(tofu.log).toMatch(/not a standalone ESX\(i\) host/);
    expect((await t.api.get(`${BASE}/${tofu.resourceId}`, { token, headers: EXTRAS })).body).toMatchObject({ name: '::1', viHostType: 'ESXi', certificateThumbprint: thumbprint });
  });

  it('adds a WindowsHost after the TLS port check, with network settings in both spellings', async () => {
    const { done, resourceId } = await session('POST', BASE, {
      name: '127.0.0.3',
      description: 'Windows stand-in',
      type: 'WindowsHost',
      credentialsId: standard,
      port: vi.port,
      networkSettings: { components: [{ componentName: 'Transport', port: 6162 }], portRangeStart: 2600, portRangeEnd: 2700, serverSide: true },
    });
    expect(done.result.result).toBe('Success');
    // Each revision reads the side flag in its own spelling: 1.1-rev0 `serverThisSide`, 1.2-rev1 `serverSide`.
    const v11 = (await t.api.get(`${BASE}/${resourceId}`, { token })).body;
    expect(v11).toMatchObject({ type: 'WindowsHost', networkSettings: { components: [{ componentName: 'Transport', port: 6162 }], portRangeStart: 2600, serverThisSide: true } });
    expect(v11.networkSettings).not.toHaveProperty('serverSide');
    const v12 = (await t.api.get(`${BASE}/${resourceId}`, { token, version: '1.2-rev1' })).body;
    expect(v12).toMatchObject({
      type: 'WindowsHost',
      status: 'Available',
      networkSettings: { components: [{ componentName: 'Transport', port: 6162 }], portRangeStart: 2600, serverSide: true },
    });
    expect(v12.networkSettings).not.toHaveProperty('serverThisSide');
    // 1.3 renamed the components (Transport → TransportSvc) and requires credentialsStorageType on Windows hosts.
    const v13 = (await t.api.get(`${BASE}/${resourceId}`, { token, version: '1.3-rev1' })).body;
    expect(v13).toMatchObject({ credentialsStorageType: 'Permanent', networkSettings: { components: [{ componentName: 'TransportSvc', port: 6162 }], serverSide: true } });
    expect(v12).not.toHaveProperty('credentialsStorageType');
    // A 1.3 client writes back what it read (no port: the stored one stays); stored in the earlier names.
    const edited = await session('PUT', `${BASE}/${resourceId}`, { ...v13, description: 'Windows stand-in, 1.3' }, '1.3-rev1');
    expect(edited.done.result.result).toBe('Success');
    expect((await t.api.get(`${BASE}/${resourceId}`, { token, headers: EXTRAS })).body).toMatchObject({
      description: 'Windows stand-in, 1.3',
      port: vi.port,
      networkSettings: { components: [{ componentName: 'Transport', port: 6162 }], serverThisSide: true },
    });
  });

  it('lists with type filter, name filter on name or description, order and paging', async () => {
    const byType = await t.api.get(`${BASE}?typeFilter=ViHost&orderColumn=Name&orderAsc=false`, { token });
    expect(byType.body.data.map((s: any) => s.name)).toEqual(['::1', '127.0.0.1']);
    const byDescription = await t.api.get(`${BASE}?nameFilter=*stand-in*&orderColumn=Description`, { token });
    expect(byDescription.body.data.length).toBeGreaterThan(0);
    expect(byDescription.body.data.every((s: any) => /stand-in/i.test(s.description))).toBe(true);
    const paged = await t.api.get(`${BASE}?skip=1&limit=1&orderColumn=Type`, { token });
    expect(paged.body.pagination).toMatchObject({ skip: 1, limit: 1, count: 1 });
    expect((await t.api.get(`${BASE}?orderColumn=Status`, { token })).status).toBe(400);
    expect((await t.api.get(`${BASE}?typeFilter=Mainframe`, { token })).body.message).toMatch(/WindowsHost, LinuxHost, ViHost/);
  });

  it("lists every type in each document's own fields (strict conformance): port only on ViHosts, isBackupServer from 1.3 on Linux and Windows hosts", async () => {
    for (const version of ['1.1-rev0', '1.2-rev1', '1.3-rev0', '1.3-rev1', '1.3-rev2']) {
      const all = (await t.api.get(BASE, { token, version })).body.data as any[];
      expect(new Set(all.map((s) => s.type)), version).toEqual(new Set(['LinuxHost', 'ViHost', 'WindowsHost']));
      for (const s of all) {
        expect(s.type === 'ViHost', `${version} ${s.type} port`).toBe('port' in s);
        expect(version.startsWith('1.3') && s.type !== 'ViHost', `${version} ${s.type} isBackupServer`).toBe('isBackupServer' in s);
        expect(version !== '1.1-rev0', `${version} status`).toBe('status' in s);
        for (const own of ['statusReason', 'sshFingerprint', 'sshHostKeyAlgorithm', 'certificateThumbprint', 'hostInfo']) expect(s, version).not.toHaveProperty(own);
      }
    }
    // With the extras header (as the console sends it), Rampart's own fields come back in every revision.
    const own = (await t.api.get(`${BASE}?typeFilter=LinuxHost`, { token, version: '1.3-rev2', headers: EXTRAS })).body.data.find((s: any) => s.isBackupServer);
    expect(own).toMatchObject({ port: 22, hostInfo: { kernel: expect.stringMatching(/^Linux /) }, sshSettings: { managementPort: 6162 } });
  });
});

describe('bad bodies and roles', () => {
  it('answers 400 before any session for every bad body', async () => {
    const linux = await credentials({ type: 'Linux', username: 'bad-body', password: 'x' });
    const standard = await credentials({ type: 'Standard', username: 'bad-body-std', password: 'x' });
    const before = (await t.api.get('/api/v1/sessions?typeFilter=Infrastructure', { token })).body.pagination.total;
    const cases: [unknown, RegExp][] = [
      [{ name: 'h', description: '', type: 'Mainframe', credentialsId: standard }, /WindowsHost, LinuxHost, ViHost/],
      [{ name: 'h', description: '', type: 'LinuxHost', credentialsId: linux }, /sshFingerprint/],
      [{ name: 'h', description: '', type: 'LinuxHost', credentialsId: linux, sshFingerprint: 'not a fingerprint' }, /not a fingerprint/],
      [{ name: 'h', description: '', type: 'LinuxHost', credentialsId: standard, sshFingerprint: 'SHA256:' + 'A'.repeat(43) }, /needs Linux credentials/],
      [{ name: 'h', description: '', type: 'ViHost', credentialsId: linux }, /needs Standard credentials/],
      [{ name: 'h', description: '', type: 'ViHost', credentialsId: '11111111-2222-4333-8444-555555555555' }, /not found/],
      [{ name: 'h', description: '', type: 'ViHost', credentialsId: 'nope' }, /credentialsId/],
      [{ name: 'h', description: '', type: 'WindowsHost' }, /credentialsId/],
      [{ name: 'h', type: 'WindowsHost', credentialsId: standard }, /description/],
      [{ description: '', type: 'WindowsHost', credentialsId: standard }, /name/],
      [{ name: 'a b', description: '', type: 'WindowsHost', credentialsId: standard }, /DNS name or an IP address/],
      [{ name: 'h', description: '', type: 'ViHost', credentialsId: standard, viHostType: 'Hyper-V' }, /ESX, ESXi, VC/],
      [{ name: 'h', description: '', type: 'LinuxHost', credentialsStorageType: 'SingleUse', sshFingerprint: 'SHA256:' + 'A'.repeat(43) }, /singleUseCredentials/],
      [{ name: 'h', description: '', type: 'WindowsHost', credentialsId: standard, networkSettings: { components: [{ componentName: 'Teleport', port: 1 }] } }, /Transport/],
    ];
    for (const [json, message] of cases) {
      const res = await t.api.post(BASE, { token, json, version: '1.2-rev1' });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body).toMatchObject({ errorCode: 'UnexpectedContent', message: expect.stringMatching(message) });
    }
    expect((await t.api.get('/api/v1/sessions?typeFilter=Infrastructure', { token })).body.pagination.total).toBe(before);
    expect((await t.api.get(`${BASE}/11111111-2222-4333-8444-555555555555`, { token })).status).toBe(404);
    expect((await t.api.request('DELETE', `${BASE}/11111111-2222-4333-8444-555555555555`, { token })).status).toBe(404);
  });

  it('Viewers and Operators may list and read, not add, edit, remove, rescan or import', async () => {
    for (const role of ['Viewer', 'Operator'] as const) {
      await t.server.users.add(`ms-${role}`, role, 'Role-Passw0rd!');
      const { access_token } = await t.api.login(`ms-${role}`, 'Role-Passw0rd!');
      expect((await t.api.get(BASE, { token: access_token })).status).toBe(200);
      expect((await t.api.post(BASE, { token: access_token, json: { name: 'h', description: '', type: 'WindowsHost', credentialsId: NIL } })).status).toBe(403);
      const id = (await t.api.get(BASE, { token: access_token })).body.data[0].id;
      expect((await t.api.request('DELETE', `${BASE}/${id}`, { token: access_token })).status).toBe(403);
      expect((await t.api.post(`${BASE}/${id}/rescan`, { token: access_token })).status).toBe(403);
      expect((await t.api.post(`${BASE}/knownHosts`, { token: access_token, rawBody: '', headers: { 'content-type': 'text/plain' } })).status).toBe(403);
    }
  });
});

describe.skipIf(!haveSshd)('LinuxHost against a real sshd, and known_hosts', () => {
  let sshd: Sshd;
  let dir: string;
  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(path.join(tmpdir(), 'rampart-kh-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds with an encrypted private key; wrong key fails; exports a known_hosts that ssh-keygen reads; import re-pins', async () => {
    const keyCreds = await credentials({
      type: 'Linux',
      username: TEST_USER,
      privateKey: sshd.userKeyEncrypted,
      passphrase: sshd.keyPassphrase,
      SSHPort: sshd.port,
      uniqueId: 'sshd-key',
    });
    const fingerprint = await fingerprintOf(keyCreds, sshd.port);
    const otherKey = sshKeyPair();
    const wrongCreds = await credentials({ type: 'Linux', username: TEST_USER, privateKey: otherKey.private, SSHPort: sshd.port, uniqueId: 'sshd-wrong' });
    const wrong = await session('POST', BASE, { name: 'localhost', description: 'sshd', type: 'LinuxHost', credentialsId: wrongCreds, sshFingerprint: fingerprint });
    expect(wrong.done.result.result).toBe('Failed');
    expect(wrong.done.result.message).toMatch(/with the private key/);
    const added = await session('POST', BASE, { name: 'localhost', description: 'sshd', type: 'LinuxHost', credentialsId: keyCreds, sshFingerprint: fingerprint });
    expect(added.done.result.result, added.log).toBe('Success');
    const model = (await t.api.get(`${BASE}/${added.resourceId}`, { token, headers: EXTRAS })).body;
    expect(model.hostInfo.kernel).toMatch(/^Linux /);
    expect(model.hostInfo.rootFreeBytes).toBeGreaterThan(0);

    const plain = await t.api.get(`${BASE}/knownHosts`, { token });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^text\/plain/);
    expect(plain.text).toContain(`[localhost]:${sshd.port} ssh-ed25519 `);
    await writeFile(path.join(dir, 'known_hosts'), plain.text);
    const listed = (await run('ssh-keygen', ['-lf', path.join(dir, 'known_hosts')])).stdout;
    expect(listed).toContain(fingerprint);
    const hashed = await t.api.get(`${BASE}/knownHosts?hashed=true`, { token });
    expect(hashed.text).toMatch(/^\|1\|/m);
    await writeFile(path.join(dir, 'hashed'), hashed.text);
    const found = (await run('ssh-keygen', ['-F', `[localhost]:${sshd.port}`, '-f', path.join(dir, 'hashed')])).stdout;
    expect(found).toMatch(/ssh-ed25519/);

    // Import the RSA key from ssh-keyscan: an explicit re-pin, reported per line.
    const scanned = (await run('ssh-keyscan', ['-p', String(sshd.port), 'localhost'])).stdout;
    const rsaLine = scanned.split('\n').find((l) => l.includes(' ssh-rsa '))!;
    const imported = await t.api.post(`${BASE}/knownHosts`, {
      token,
      rawBody: `${rsaLine}\n[nowhere.example]:22 ${rsaLine.split(' ').slice(1).join(' ')}\ngarbage\n`,
      headers: { 'content-type': 'text/plain' },
    });
    expect(imported.status).toBe(200);
    expect(imported.body.results.map((r: any) => r.action)).toEqual(['replaced', 'notManaged', 'invalid']);
    const rescan = await session('POST', `${BASE}/${added.resourceId}/rescan`);
    expect(rescan.done.result.result, rescan.log).toBe('Success');
    expect(rescan.log).toMatch(/\(ssh-rsa\)/);
  });
});
