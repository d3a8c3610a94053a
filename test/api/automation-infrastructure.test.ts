import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { haveSshd, startSshd, TEST_USER, type Sshd } from '../support/sshd.js';
import { exportFrom, importInto } from './automation-support.js';

const PASSPHRASE = 'correct horse battery staple';
const SEAL = { 'x-rampart-seal-passphrase': PASSPHRASE };
const SERVERS = '/api/v1/backupInfrastructure/managedServers';
const PROXIES = '/api/v1/backupInfrastructure/proxies';

/** A 201 + session route, waited for. */
async function saved(t: TestServer, token: string, url: string, json: unknown) {
  const res = await t.api.post(url, { token, json });
  expect(res.status, res.text).toBe(201);
  await t.server.runner.settled(res.body.id);
  const done = (await t.api.get(`/api/v1/sessions/${res.body.id}`, { token })).body;
  expect(done.result.result).toBe('Success');
  return res.body.resourceId as string;
}

describe.skipIf(!haveSshd)('automation of managed servers and proxies (real sshd)', () => {
  let sshd: Sshd;
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;

  beforeAll(async () => {
    [sshd, a, b] = await Promise.all([startSshd(), startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000' }), startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000' })]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    const creds = await a.api.post('/api/v1/credentials', {
      token: tokenA,
      json: { type: 'Linux', username: TEST_USER, privateKey: sshd.userKey, SSHPort: sshd.port, uniqueId: 'sshd-key' },
    });
    expect(creds.status, creds.text).toBe(201);
    const probe = await a.api.post('/api/v1/connectionCertificate', {
      token: tokenA,
      json: { serverName: 'localhost', credentialsId: creds.body.id, type: 'LinuxHost', port: sshd.port },
    });
    const hostId = await saved(a, tokenA, SERVERS, {
      name: 'localhost',
      description: 'real sshd',
      type: 'LinuxHost',
      credentialsId: creds.body.id,
      sshFingerprint: probe.body.fingerprint,
    });
    await saved(a, tokenA, PROXIES, { description: 'proxy on sshd', type: 'ViProxy', server: { hostId, transportMode: 'network', hostToProxyEncryption: true, maxTaskCount: 3 } });
  });
  afterAll(async () => {
    await Promise.all([sshd?.stop(), a?.cleanup(), b?.cleanup()]);
  });

  it('exports the documented shapes: no ids, credentials by name and tag, the pinned fingerprint, proxies by host name', async () => {
    const servers = await exportFrom(a, tokenA, 'managedServers');
    // The backup server itself is not exported: it is every server's own.
    expect(servers).toEqual({
      windowsHosts: [],
      viHosts: [],
      linuxHosts: [
        {
          name: 'localhost',
          description: 'real sshd',
          type: 'LinuxHost',
          credentials: { credentialsName: TEST_USER, credentialsTag: 'sshd-key' },
          sshSettings: expect.objectContaining({ serverThisSide: false, serverSide: false }),
          sshFingerprint: expect.stringMatching(/^SHA256:/),
        },
      ],
    });
    const proxies = await exportFrom(a, tokenA, 'proxies', { names: ['local*'] });
    expect(proxies.proxies).toEqual([
      {
        description: 'proxy on sshd',
        type: 'ViProxy',
        server: {
          hostName: 'localhost',
          transportMode: 'network',
          failoverToNetwork: true,
          hostToProxyEncryption: true,
          connectedDatastores: { autoSelect: true, autoSelectEnabled: true, datastores: [] },
          maxTaskCount: 3,
        },
      },
    ]);
    expect(JSON.stringify(proxies)).not.toMatch(/hostId|"id"/);
    expect((await exportFrom(a, tokenA, 'managedServers', { types: ['ViHost'] })).linuxHosts).toEqual([]);
  });

  it('round trip into a fresh server: the sealed credentials first, then the server (real SSH login in the import log), then the proxy', async () => {
    const credentials = await exportFrom(a, tokenA, 'credentials', { types: ['Linux'] }, '?seal=true', SEAL);
    expect((await importInto(b, tokenB, 'credentials', credentials, '', SEAL)).session.result.result).toBe('Success');

    const servers = await exportFrom(a, tokenA, 'managedServers');
    const dry = await importInto(b, tokenB, 'managedServers', servers, '?dryRun=true');
    expect(dry.log.map((r) => r.title)).toContain('Would create LinuxHost "localhost"');
    const imported = await importInto(b, tokenB, 'managedServers', servers);
    const titles = imported.log.map((r) => `${r.status}: ${r.title}`);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    // The same checks as adding by hand, each step in the import session's log.
    expect(titles.some((t) => /^Succeeded: .*presents SSH host key SHA256:/.test(t))).toBe(true);
    expect(titles).toContain('Succeeded: The SSH host key fingerprint matches the one given');
    expect(titles.some((t) => new RegExp(`^Succeeded: Logging in to .* as "${TEST_USER}" with a private key$`).test(t))).toBe(true);
    expect(titles.some((t) => /^Succeeded: .*free of/.test(t))).toBe(true);
    expect(titles).toContain('Succeeded: Created LinuxHost "localhost"');

    const proxies = await exportFrom(a, tokenA, 'proxies');
    const importedProxies = await importInto(b, tokenB, 'proxies', proxies);
    expect(importedProxies.session.result.result, JSON.stringify(importedProxies.log)).toBe('Success');
    expect(importedProxies.log.map((r) => r.title)).toContain('Created ViProxy "localhost"');

    // Exporting again from the second server gives the same collections.
    expect(await exportFrom(b, tokenB, 'managedServers')).toEqual(servers);
    expect(await exportFrom(b, tokenB, 'proxies')).toEqual(proxies);
    // hostInfo is Rampart's own: asked for with the extras header.
    const model = (await b.api.get(`${SERVERS}?nameFilter=localhost`, { token: tokenB, headers: { 'x-rampart-extras': 'true' } })).body.data[0];
    expect(model.hostInfo.kernel).toMatch(/^Linux /);

    // Again: both exist now, so both are skipped.
    const again = await importInto(b, tokenB, 'proxies', proxies);
    expect(again.log.map((r) => r.title)).toContain('Skipped ViProxy "localhost": it already exists');
  });

  it('an unresolved credentials or server reference skips the object with a log naming it; the session ends Warning', async () => {
    const ghost = {
      name: 'ghost.example',
      description: '',
      type: 'LinuxHost',
      credentials: { credentialsName: 'nobody', credentialsTag: 'missing' },
      sshFingerprint: 'SHA256:' + 'A'.repeat(43),
    };
    const servers = await importInto(b, tokenB, 'managedServers', { linuxHosts: [ghost] });
    expect(servers.session.result.result).toBe('Warning');
    expect(servers.log.map((r) => r.title)).toContain('Skipped LinuxHost "ghost.example": missing credentials "nobody" (tag "missing")');
    const proxies = await importInto(b, tokenB, 'proxies', { proxies: [{ description: '', type: 'ViProxy', server: { hostName: 'ghost.example' } }] });
    expect(proxies.session.result.result).toBe('Warning');
    expect(proxies.log.map((r) => r.title)).toContain('Skipped ViProxy "ghost.example": missing managed server "ghost.example"');
    expect((await b.api.get(`${SERVERS}?nameFilter=ghost*`, { token: tokenB })).body.pagination.total).toBe(0);
  });

  it('malformed collections are a 400 before anything is touched', async () => {
    for (const [kind, json] of [
      ['managedServers', { linuxHosts: [{ name: 'x', description: '', type: 'LinuxHost', credentials: { credentialsName: 'a' } }] }],
      ['managedServers', { viHosts: [{ name: 'x', description: '', type: 'ViHost', viHostType: 'Hyper-V', credentials: { credentialsName: 'a' } }] }],
      ['proxies', { proxies: [{ description: '', type: 'ViProxy', server: { hostName: 'x', hostId: '11111111-2222-4333-8444-555555555555' } }] }],
      ['proxies', { proxies: [{ description: '', type: 'ViProxy', server: { hostName: 'x', transportMode: 'san' } }] }],
    ] as const) {
      const res = await b.api.post(`/api/v1/automation/${kind}/import`, { token: tokenB, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
    }
  });
});
