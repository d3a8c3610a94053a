import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { startSilentPeer, type Peer } from '../support/peers.js';
import { startVcsim, VCSIM_PASSWORD, VCSIM_USER, type Vcsim } from '../support/vcsim.js';
import { startBlackHole } from '../support/s3.js';
import { backupServerOf, exportFrom, finished, infrastructureRows, REPOS, SERVERS, titlesOf } from './automation-support.js';

/**
 * Stopping an import of managed servers or repositories in the middle. The
 * third object's host never answers (a listener that accepts and stays silent,
 * a service point that swallows requests), so the import is surely busy with it
 * when the stop arrives: the probe or storage check in flight is abandoned at
 * once, not after its timeout.
 */

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stopping an import of managed servers and repositories in the middle', () => {
  let vc: Vcsim;
  let silent: Peer;
  let hole: { port: number; stop(): Promise<void> };
  let t: TestServer;
  let token: string;
  let root: string;
  let thumbprint: string;
  let backupName: string;

  beforeAll(async () => {
    // Timeouts far longer than the test waits: only the stop can end the hanging checks in time.
    [vc, silent, hole, t] = await Promise.all([
      // A ViHost is logged in to: the vCenter is VMware's simulator, reached on every loopback address.
      startVcsim({ listen: '::' }),
      startSilentPeer(),
      startBlackHole(),
      startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '10000', RAMPART_REPOSITORY_TIMEOUT_MS: '10000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' }),
    ]);
    thumbprint = vc.thumbprint.replace(/:/g, '');
    token = await t.adminToken();
    root = await mkdtemp(path.join(tmpdir(), 'rampart-stop-'));
    backupName = (await backupServerOf(t, token)).name;
    expect((await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: VCSIM_USER, password: VCSIM_PASSWORD, tag: 'vc-admin' } })).status).toBe(201);
    expect((await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: 'AKIASTOP', secretKey: 'x', tag: 's3-stop' } })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([t?.cleanup(), vc?.stop(), silent?.close(), hole?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** Starts the import, waits until a log record says the import works on `busyWith`, stops it; the session and its log. */
  async function stopWhileBusy(kind: string, collection: unknown, busyWith: RegExp) {
    const res = await t.api.post(`/api/v1/automation/${kind}/import`, { token, json: collection });
    expect(res.status, res.text).toBe(201);
    for (let i = 0; ; i++) {
      const logs = await t.api.get(`/api/v1/automation/sessions/${res.body.id}/logs`, { token });
      if (logs.body.records.some((r: { title: string; status: string }) => r.status === 'None' && busyWith.test(r.title))) break;
      if (i > 200) throw new Error(`the import never got to ${busyWith}: ${logs.text}`);
      await sleep(25);
    }
    const stoppedAt = Date.now();
    expect((await t.api.post(`/api/v1/automation/sessions/${res.body.id}/stop`, { token })).status).toBe(200);
    const done = await finished(t, token, res.body.id);
    return { ...done, stopTookMs: Date.now() - stoppedAt };
  }

  it('managed servers: the two imported before the stop stay whole; the one being probed and the rest are not imported and are listed', async () => {
    const vi = (n: number, port: number) => ({
      name: `127.0.0.${n}`,
      description: `server ${n}`,
      type: 'ViHost',
      viHostType: 'VC',
      credentials: { credentialsName: 'administrator@vsphere.local', credentialsTag: 'vc-admin' },
      port,
      certificateThumbprint: thumbprint,
    });
    const viHosts = [vi(11, vc.port), vi(12, vc.port), { ...vi(13, silent.port), name: '127.0.0.1' }, vi(14, vc.port), vi(15, vc.port)];
    const { session, log, stopTookMs } = await stopWhileBusy('managedServers', { viHosts }, new RegExp(`^Connecting to 127\\.0\\.0\\.1:${silent.port} `));
    const titles = titlesOf(log);
    expect(session.result, titles.join('\n')).toMatchObject({ result: 'Failed', isCanceled: true, message: 'Stopped by administrator.' });
    expect(stopTookMs, 'the probe in flight is abandoned at once, not after its 10 s timeout').toBeLessThan(3000);

    // What was imported before the stop stays, whole: exporting it gives back what was imported.
    expect(titles.filter((x) => x.startsWith('Succeeded: Created'))).toEqual(['Succeeded: Created ViHost "127.0.0.11"', 'Succeeded: Created ViHost "127.0.0.12"']);
    expect((await exportFrom(t, token, 'managedServers')).viHosts).toEqual(viHosts.slice(0, 2));
    // status (1.2+) and the pinned thumbprint are extras in 1.1-rev0: asked for with the extras header.
    const list = (await t.api.get(`${SERVERS}?typeFilter=ViHost`, { token, headers: { 'x-rampart-extras': 'true' } })).body.data;
    expect(list.map((s: any) => [s.name, s.status, s.certificateThumbprint])).toEqual([
      ['127.0.0.11', 'Available', thumbprint],
      ['127.0.0.12', 'Available', thumbprint],
    ]);

    // What was not imported, the server in flight included, is listed in the log; nothing of it exists.
    const stopped = log.find((r) => r.title.startsWith('Stopped:'));
    expect(stopped?.title, titles.join('\n')).toBe('Stopped: 3 object(s) were not imported');
    expect(stopped!.description.split('\n')).toEqual(['ViHost "127.0.0.1" (/viHosts/2)', 'ViHost "127.0.0.14" (/viHosts/3)', 'ViHost "127.0.0.15" (/viHosts/4)']);
    expect(
      titles.some((x) => x.startsWith('Failed: Could not import')),
      titles.join('\n'),
    ).toBe(false);
    // The step in flight says it was cut short, not that the host failed.
    expect(log.find((r) => r.title === `Connecting to 127.0.0.1:${silent.port} (TLS)`)).toMatchObject({
      status: 'Failed',
      description: `The probe of 127.0.0.1:${silent.port} was canceled.`,
    });
    const rows = await infrastructureRows(t);
    expect(rows.managedServers.map((r) => r.name).sort()).toEqual(['127.0.0.11', '127.0.0.12', backupName].sort());
  });

  it('repositories: the two imported before the stop stay whole; the one being checked and the rest are not imported, listed, and no folder of theirs is made', async () => {
    const local = (n: number) => ({
      name: `r-${n}`,
      description: `folder ${n}`,
      tag: `r${n}`,
      type: 'LinuxLocal',
      hostName: backupName,
      repository: { path: path.join(root, `r-${n}`) },
      mountServer: { mountServerName: backupName, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    });
    const hanging = {
      name: 'r-3',
      description: 'service point that never answers',
      tag: 'r3',
      type: 'S3Compatible',
      account: {
        servicePoint: `http://127.0.0.1:${hole.port}`,
        regionId: 'us-east-1',
        credentials: { name: 'AKIASTOP', tag: 's3-stop', type: 'Amazon' },
        connectionSettings: { connectionType: 'Direct' },
      },
      bucket: { bucketName: 'never', folderName: 'veeam' },
      mountServer: { mountServerName: backupName, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
    };
    // Items are imported in the documented key order: LinuxLocal, then S3Compatible, then LinuxHardened.
    const hardened = (n: number) => ({ ...local(n), type: 'LinuxHardened', repository: { path: path.join(root, `r-${n}`), makeRecentBackupsImmutableDays: 7 } });
    const collection = { LinuxHardenedRepositories: [hardened(4), hardened(5)], S3CompatibleStorages: [hanging], LinuxLocalRepositories: [local(1), local(2)] };
    const { session, log, stopTookMs } = await stopWhileBusy('repositories', collection, /opening bucket "never"$/);
    const titles = titlesOf(log);
    expect(session.result, titles.join('\n')).toMatchObject({ result: 'Failed', isCanceled: true, message: 'Stopped by administrator.' });
    expect(stopTookMs, titles.join('\n')).toBeLessThan(3000);
    expect(titles.filter((x) => x.startsWith('Succeeded: Created'))).toEqual(['Succeeded: Created LinuxLocal repository "r-1"', 'Succeeded: Created LinuxLocal repository "r-2"']);
    const stopped = log.find((r) => r.title.startsWith('Stopped:'));
    expect(stopped?.title, titles.join('\n')).toBe('Stopped: 3 object(s) were not imported');
    expect(stopped!.description.split('\n')).toEqual([
      'S3Compatible repository "r-3" (/S3CompatibleStorages/0)',
      'LinuxHardened repository "r-4" (/LinuxHardenedRepositories/0)',
      'LinuxHardened repository "r-5" (/LinuxHardenedRepositories/1)',
    ]);
    expect(
      titles.some((x) => x.startsWith('Failed: Could not import')),
      titles.join('\n'),
    ).toBe(false);
    const endpoint = `http://127.0.0.1:${hole.port}`;
    expect(log.find((r) => r.title === `Connecting to ${endpoint} and opening bucket "never"`)).toMatchObject({
      status: 'Failed',
      description: `The check of the bucket "never" at ${endpoint} was canceled.`,
    });
    // 1.1-rev0 exports identify a repository by `tag` only (`uniqueId` is 1.2's name for it).
    const exported = (n: number) => ({ ...local(n), kind: 'LocalStorage' });
    expect((await exportFrom(t, token, 'repositories')).LinuxLocalRepositories).toEqual([exported(1), exported(2)]);
    expect((await t.api.get(`${REPOS}?orderColumn=Name`, { token })).body.data.map((r: any) => r.name)).toEqual(['r-1', 'r-2']);
    expect(await exists(path.join(root, 'r-1'))).toBe(true);
    expect(await exists(path.join(root, 'r-4'))).toBe(false);
    expect(await exists(path.join(root, 'r-5'))).toBe(false);
  });
});
