import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTlsMaterial, startCountingForwarder, startTlsPeer, type Peer } from '../support/peers.js';
import { startVcsim, VCSIM_PASSWORD, VCSIM_USER, type Vcsim } from '../support/vcsim.js';
import { opensslFacts } from '../support/tls.js';
import { added, backupServerOf, exportFrom, importInto, infrastructureRows, PROXIES, REPOS, SERVERS, titlesOf } from './automation-support.js';

/**
 * onConflict=fail and overwrite for managed servers, repositories and proxies
 * (the credentials kinds are covered in automation.test.ts). The collections
 * are what the server exported of itself, edited the way a user edits a file,
 * plus one object that does not exist yet.
 */

/** Asks for Rampart's own managed-server fields (pins, status reasons, ports) beside the documented ones. */
const EXTRAS = { 'x-rampart-extras': 'true' };
const VC = '127.0.0.2';
const WIN = '127.0.0.3';
const NEW_VC = '127.0.0.5';
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('automation import conflicts of managed servers, repositories and proxies', () => {
  // A ViHost is logged in to: the vCenter is VMware's simulator behind a forwarder that counts connections,
  // and a second one with another certificate plays the vCenter moved elsewhere.
  let vcsim: Vcsim;
  let movedVc: Vcsim;
  let movedThumbprint: string;
  let vc: Peer & { connections(): number };
  let win: Peer & { requests: string[]; connections(): number };
  let t: TestServer;
  let token: string;
  let root: string;
  let vcThumbprint: string;
  let winThumbprint: string;
  let ids: Record<string, string>;
  const exported: Record<string, any> = {};

  const idOf = async (url: string, name: string) => (await t.api.get(`${url}?nameFilter=${encodeURIComponent(name)}`, { token })).body.data[0]?.id as string | undefined;
  const connections = () => vc.connections() + win.connections();

  beforeAll(async () => {
    const [movedMaterial, winMaterial] = await Promise.all([makeTlsMaterial('ec', { cn: 'vcenter.test' }), makeTlsMaterial('ec', { cn: 'win.test' })]);
    [vcsim, movedVc, win, t] = await Promise.all([
      startVcsim(),
      startVcsim({ listen: '::', certPem: movedMaterial.leafPem, keyPem: movedMaterial.keyPem }),
      startTlsPeer(winMaterial, '::'),
      startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' }),
    ]);
    vc = await startCountingForwarder(vcsim.port);
    vcThumbprint = vcsim.thumbprint.replace(/:/g, '');
    movedThumbprint = (await opensslFacts(movedMaterial.leafPem)).sha1.replace(/:/g, '');
    winThumbprint = (await opensslFacts(winMaterial.leafPem)).sha1.replace(/:/g, '');
    token = await t.adminToken();
    root = await mkdtemp(path.join(tmpdir(), 'rampart-conflicts-'));
    const backup = await backupServerOf(t, token);
    const creds = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: VCSIM_USER, password: VCSIM_PASSWORD, tag: 'vc-admin' } });
    expect(creds.status).toBe(201);
    const vcId = await added(t, token, SERVERS, {
      name: VC,
      description: 'vCenter',
      type: 'ViHost',
      credentialsId: creds.body.id,
      port: vc.port,
      certificateThumbprint: vcThumbprint,
    });
    const winId = await added(t, token, SERVERS, {
      name: WIN,
      description: 'Windows',
      type: 'WindowsHost',
      credentialsId: creds.body.id,
      port: win.port,
      certificateThumbprint: winThumbprint,
      networkSettings: { portRangeStart: 2600, portRangeEnd: 2700 },
    });
    const proxyId = await added(t, token, PROXIES, { description: 'proxy', type: 'ViProxy', server: { hostId: winId, transportMode: 'network', maxTaskCount: 2 } });
    const mountServer = { mountServerId: backup.id, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false };
    const localId = await added(t, token, REPOS, {
      type: 'LinuxLocal',
      name: 'local-0',
      description: 'folder',
      hostId: backup.id,
      repository: { path: path.join(root, 'local-0') },
      mountServer,
    });
    const winLocalId = await added(t, token, REPOS, {
      type: 'WinLocal',
      name: 'win-local',
      description: 'on Windows',
      hostId: winId,
      repository: { path: 'D:\\Backups' },
      mountServer: { ...mountServer, mountServerId: winId },
    });
    ids = { vcId, winId, proxyId, localId, winLocalId };
    for (const kind of ['managedServers', 'repositories', 'proxies']) exported[kind] = await exportFrom(t, token, kind);
  });
  afterAll(async () => {
    await Promise.all([t?.cleanup(), vc?.close(), win?.close(), vcsim?.stop(), movedVc?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** The exported servers with edits and one server that does not exist yet. */
  function editedServers() {
    const servers = structuredClone(exported.managedServers);
    Object.assign(
      servers.viHosts.find((s: any) => s.name === VC),
      { description: 'vCenter, rebuilt', viHostType: 'ESXi' },
    );
    servers.windowsHosts[0].networkSettings = { ...servers.windowsHosts[0].networkSettings, portRangeStart: 2800, portRangeEnd: 2900 };
    servers.windowsHosts[0].description = 'Windows, new ports';
    servers.viHosts.push({ ...servers.viHosts[0], name: NEW_VC, description: 'newcomer' });
    return servers;
  }
  function editedRepositories() {
    const repos = structuredClone(exported.repositories);
    Object.assign(repos.LinuxLocalRepositories[0], { description: 'folder, limited' });
    repos.LinuxLocalRepositories[0].repository = { ...repos.LinuxLocalRepositories[0].repository, enableTaskLimit: true, maxTaskCount: 3 };
    repos.WindowsLocalRepositories[0].repository = { path: 'E:\\Backups' };
    repos.LinuxLocalRepositories.push({ ...repos.LinuxLocalRepositories[0], name: 'newcomer', repository: { path: path.join(root, 'newcomer') } });
    return repos;
  }
  function editedProxies() {
    const proxies = structuredClone(exported.proxies);
    proxies.proxies[0].description = 'proxy, faster';
    Object.assign(proxies.proxies[0].server, { transportMode: 'directAccess', maxTaskCount: 6 });
    proxies.proxies.push({ description: 'newcomer', type: 'ViProxy', server: { hostName: VC } });
    return proxies;
  }

  it('fail: a clash and nothing at all is imported, not even the new objects; no host is probed, no folder made; the database is as it was', async () => {
    const cases: [string, unknown, string[]][] = [
      ['managedServers', editedServers(), [`WindowsHost "${WIN}" already exists`, `ViHost "${VC}" already exists`]],
      ['repositories', editedRepositories(), ['WinLocal repository "win-local" already exists', 'LinuxLocal repository "local-0" already exists']],
      ['proxies', editedProxies(), [`ViProxy "${WIN}" already exists`]],
    ];
    for (const [kind, collection, clashes] of cases) {
      const before = await infrastructureRows(t);
      const probes = connections();
      const { session, log } = await importInto(t, token, kind, collection, '?onConflict=fail');
      expect(session.result, kind).toMatchObject({ result: 'Failed', message: `${clashes.length} object(s) already exist and onConflict is fail: nothing was imported.` });
      expect(log.filter((r) => r.status === 'Failed').map((r) => r.title)).toEqual(clashes);
      expect(
        titlesOf(log).some((x) => /Created|Overwrote|Adding|Editing|Connecting/.test(x)),
        titlesOf(log).join('\n'),
      ).toBe(false);
      expect(await infrastructureRows(t), kind).toEqual(before);
      expect(connections(), `${kind}: no host was probed`).toBe(probes);
    }
    expect(await idOf(SERVERS, NEW_VC)).toBeUndefined();
    expect(await idOf(REPOS, 'newcomer')).toBeUndefined();
    expect(await exists(path.join(root, 'newcomer'))).toBe(false);
    expect((await t.api.get(`${PROXIES}?hostIdFilter=${ids.vcId}`, { token })).body.data).toEqual([]);
  });

  it('overwrite, managed servers: each existing server is checked against its pin again and edited in place; a server whose check fails keeps what it had', async () => {
    const probes = connections();
    const { session, log } = await importInto(t, token, 'managedServers', editedServers(), '?onConflict=overwrite');
    const titles = titlesOf(log);
    expect(session.result, titles.join('\n')).toMatchObject({ result: 'Success', message: 'created 1, overwrote 2, skipped 0.' });
    // The edited file calls the vCenter (and its copy) ESXi: the vSphere login sees a vCenter and says so.
    expect(titles.filter((x) => x === 'None: The server is not a standalone ESX(i) host')).toHaveLength(2);
    expect(titles).toContain(`Succeeded: Overwrote ViHost "${VC}"`);
    expect(titles).toContain(`Succeeded: Overwrote WindowsHost "${WIN}"`);
    expect(titles).toContain(`Succeeded: Created ViHost "${NEW_VC}"`);
    // Overwriting is editing: the pinned certificate is checked again on each host.
    expect(titles.filter((x) => x === 'Succeeded: The certificate thumbprint matches the pin')).toHaveLength(2);
    expect(connections()).toBeGreaterThan(probes);
    expect((await t.api.get(`${SERVERS}/${ids.vcId}`, { token, headers: EXTRAS })).body).toMatchObject({
      name: VC,
      description: 'vCenter, rebuilt',
      viHostType: 'ESXi',
      certificateThumbprint: vcThumbprint,
      status: 'Available',
    });
    expect((await t.api.get(`${SERVERS}/${ids.winId}`, { token, headers: EXTRAS })).body).toMatchObject({
      description: 'Windows, new ports',
      networkSettings: { portRangeStart: 2800, portRangeEnd: 2900 },
    });
    expect((await t.api.get(`${SERVERS}?typeFilter=ViHost,WindowsHost`, { token })).body.pagination.total).toBe(3);

    // All or nothing: the check refuses the host (its exported pin is another certificate), so nothing of the edit lands.
    const wrong = structuredClone(exported.managedServers);
    Object.assign(wrong.windowsHosts[0], { description: 'must not land', certificateThumbprint: vcThumbprint });
    const before = await infrastructureRows(t);
    const refused = await importInto(t, token, 'managedServers', { windowsHosts: wrong.windowsHosts }, '?onConflict=overwrite');
    expect(refused.session.result.result).toBe('Failed');
    expect(refused.log.find((r) => r.title === `Could not import WindowsHost "${WIN}"`)?.description).toMatch(/does not match .*: expected /);
    expect(await infrastructureRows(t)).toEqual(before);
  });

  it('overwrite, repositories: storage checked again and the repository edited in place; a refused edit (check fails, type differs) changes nothing', async () => {
    const { session, log } = await importInto(t, token, 'repositories', editedRepositories(), '?onConflict=overwrite');
    const titles = titlesOf(log);
    // The Windows repository's folder cannot be verified: a warning in the log, so the session ends Warning.
    expect(session.result, titles.join('\n')).toMatchObject({ result: 'Warning', message: 'created 1, overwrote 2, skipped 0.' });
    expect(
      titles.some((x) => x.startsWith('Warning: ') && /not verified/.test(x)),
      titles.join('\n'),
    ).toBe(true);
    expect(titles).toContain('Succeeded: Editing LinuxLocal repository "local-0"');
    expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${path.join(root, 'local-0')}`);
    expect(titles).toContain('Succeeded: Overwrote LinuxLocal repository "local-0"');
    expect(titles).toContain('Succeeded: Overwrote WinLocal repository "win-local"');
    expect(titles).toContain('Succeeded: Created LinuxLocal repository "newcomer"');
    expect((await t.api.get(`${REPOS}/${ids.localId}`, { token })).body).toMatchObject({
      description: 'folder, limited',
      repository: { path: path.join(root, 'local-0'), enableTaskLimit: true, maxTaskCount: 3 },
    });
    expect((await t.api.get(`${REPOS}/${ids.winLocalId}`, { token })).body).toMatchObject({ hostId: ids.winId, repository: { path: 'E:\\Backups' } });
    expect((await t.api.get(REPOS, { token })).body.pagination.total).toBe(3);

    // A new path the check cannot create, and the same name under another type: both refused, nothing changes.
    const blocker = path.join(root, 'blocker');
    await writeFile(blocker, 'a file, not a folder');
    const current = await exportFrom(t, token, 'repositories', { names: ['local-0'] });
    const moved = { ...current.LinuxLocalRepositories[0], description: 'must not land', repository: { path: path.join(blocker, 'sub') } };
    const retyped = {
      ...current.LinuxLocalRepositories[0],
      type: 'LinuxHardened',
      description: 'must not land',
      repository: { path: path.join(root, 'hard'), makeRecentBackupsImmutableDays: 7 },
    };
    const before = await infrastructureRows(t);
    const refused = await importInto(t, token, 'repositories', { LinuxLocalRepositories: [moved] }, '?onConflict=overwrite');
    expect(refused.session.result.result).toBe('Failed');
    expect(refused.log.find((r) => r.title === 'Could not import LinuxLocal repository "local-0"')?.description).toMatch(/Cannot create the folder/);
    const retypedRun = await importInto(t, token, 'repositories', { LinuxHardenedRepositories: [retyped] }, '?onConflict=overwrite');
    expect(retypedRun.session.result.result).toBe('Failed');
    expect(retypedRun.log.find((r) => r.title === 'Could not import LinuxHardened repository "local-0"')?.description).toMatch(/type of a repository cannot be changed/);
    expect(await infrastructureRows(t)).toEqual(before);
    expect(await exists(path.join(root, 'hard'))).toBe(false);
  });

  it('overwrite, proxies: the server is probed against its pin again and the proxy edited in place', async () => {
    const probes = win.connections();
    const { session, log } = await importInto(t, token, 'proxies', editedProxies(), '?onConflict=overwrite');
    const titles = titlesOf(log);
    expect(session.result, titles.join('\n')).toMatchObject({ result: 'Success', message: 'created 1, overwrote 1, skipped 0.' });
    expect(titles).toContain(`Succeeded: Overwrote ViProxy "${WIN}"`);
    expect(titles).toContain(`Succeeded: Created ViProxy "${VC}"`);
    expect(titles.some((x) => x.startsWith(`Succeeded: ${WIN}:${win.port} presents certificate ${winThumbprint}`))).toBe(true);
    expect(win.connections()).toBeGreaterThan(probes);
    expect((await t.api.get(`${PROXIES}/${ids.proxyId}`, { token })).body).toMatchObject({
      id: ids.proxyId,
      name: WIN,
      description: 'proxy, faster',
      server: { hostId: ids.winId, transportMode: 'directAccess', maxTaskCount: 6 },
    });
    expect((await t.api.get(PROXIES, { token })).body.pagination.total).toBe(2);
    // Exporting now gives the edited collection back.
    expect((await exportFrom(t, token, 'proxies', { names: [WIN] })).proxies[0]).toMatchObject({
      description: 'proxy, faster',
      server: { transportMode: 'directAccess', maxTaskCount: 6 },
    });
  });

  it('overwrite re-pins a server whose new certificate the collection names (with a Warning); skip leaves the old pin; the stale file afterwards changes nothing', async () => {
    // The vCenter now answers elsewhere with another certificate (here: a second simulator with its own certificate), and the file says so.
    const moved = { viHosts: [{ ...structuredClone(exported.managedServers.viHosts[0]), port: movedVc.port, certificateThumbprint: movedThumbprint }] };
    const skipped = await importInto(t, token, 'managedServers', moved);
    expect(titlesOf(skipped.log)).toContain(`Succeeded: Skipped ViHost "${VC}": it already exists`);
    expect((await t.api.get(`${SERVERS}/${ids.vcId}`, { token, headers: EXTRAS })).body).toMatchObject({ port: vc.port, certificateThumbprint: vcThumbprint });

    const repinned = await importInto(t, token, 'managedServers', moved, '?onConflict=overwrite');
    const titles = titlesOf(repinned.log);
    expect(repinned.session.result, titles.join('\n')).toMatchObject({ result: 'Warning', message: 'created 0, overwrote 1, skipped 0; 1 warning(s).' });
    const warning = repinned.log.find((r) => r.title === 'The certificate thumbprint changed and the request names the new one: re-pinned');
    expect(warning?.description).toBe(`Old: thumbprint ${vcThumbprint}. New: thumbprint ${movedThumbprint}.`);
    expect((await t.api.get(`${SERVERS}/${ids.vcId}`, { token, headers: EXTRAS })).body).toMatchObject({
      id: ids.vcId,
      port: movedVc.port,
      certificateThumbprint: movedThumbprint,
      status: 'Available',
    });

    // The old file again: its thumbprint is not what the host presents. Nothing of the edit lands; the host still presents its pin, so the server stays Available.
    const before = await infrastructureRows(t);
    const stale = await importInto(
      t,
      token,
      'managedServers',
      { viHosts: [{ ...exported.managedServers.viHosts[0], description: 'must not land', port: movedVc.port }] },
      '?onConflict=overwrite',
    );
    expect(stale.session.result.result).toBe('Failed');
    expect(stale.log.find((r) => r.title === `Could not import ViHost "${VC}"`)?.description).toContain(
      `expected ${vcThumbprint}, the host presents thumbprint ${movedThumbprint}`,
    );
    expect(await infrastructureRows(t)).toEqual(before);
    expect((await t.api.get(`${SERVERS}/${ids.vcId}`, { token, headers: EXTRAS })).body).toMatchObject({
      description: 'vCenter',
      port: movedVc.port,
      certificateThumbprint: movedThumbprint,
      status: 'Available',
    });
  });
});
