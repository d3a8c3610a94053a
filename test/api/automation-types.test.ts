import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeTlsMaterial, startTlsPeer, type Peer } from '../support/peers.js';
import { haveSmbd, startSmbd } from '../support/smbd.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { opensslFacts } from '../support/tls.js';
import { startVcsim, VCSIM_PASSWORD, VCSIM_USER, type Vcsim } from '../support/vcsim.js';
import { startGanesha } from '../support/ganesha.js';
import { added, backupServerOf, exportFrom, importInto, PROXIES, REPOS, SERVERS, titlesOf } from './automation-support.js';

/** Asks for Rampart's own fields (pins, ports) beside the documented ones. */
const EXTRAS = { 'x-rampart-extras': 'true' };

/**
 * Round trips of the object types the other automation tests leave out:
 * ViHost and WindowsHost servers (local TLS stand-ins present their
 * certificates), a proxy on the Windows server, and repositories of every type
 * that can be checked or stored here (WasabiCloud and GoogleCloud travel in
 * repositories-wasabi-google.test.ts, with their endpoints overridden), several referencing the Windows server
 * as gateway, mount server or proxy appliance by name. Built on server A through
 * the API, exported, imported into a fresh server B, exported again from B.
 */

const SEAL = { 'x-rampart-seal-passphrase': 'correct horse battery staple' };
const VC = '127.0.0.2';
const ESXI = '::1';
const WIN = '127.0.0.3';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

// The file servers for the share repositories listen on privileged ports (445, 2049) of their own loopback addresses: root only.
const shares = process.getuid?.() === 0;
// SMB repositories are checked by a real login: Samba's smbd, knowing the Windows account below.
const smbd = haveSmbd && shares ? await startSmbd({ users: [{ name: 'backup', password: 'Win-Secret-1' }] }) : undefined;
// NFS exports are mounted for real (Rampart's NFSv3 client): a real NFS server, NFS-Ganesha.
const nfsShare = smbd ? await startGanesha() : undefined;

/** A model without what differs between two servers by nature (ids, the credentials record's id). */
function portable(model: Record<string, unknown>) {
  const { id: _id, credentialsId: _c, ...rest } = model;
  return rest;
}

const SUBSCRIPTION = '5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5';

describe('automation round trip of ViHost/WindowsHost servers, a proxy on one, and repositories of many types', () => {
  let vc: Vcsim;
  let win: Peer & { requests: string[] };
  let s3: LocalS3;
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;
  let root: string;
  let vcThumbprint: string;
  let winThumbprint: string;
  let backupA: { id: string; name: string };
  let winIdA: string;
  const env = { RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0', RAMPART_REPOSITORY_TIMEOUT_MS: '3000' };

  beforeAll(async () => {
    const winMaterial = await makeTlsMaterial('rsa', { cn: 'win.test' });
    // On :: so every loopback address (127.0.0.x, ::1) reaches them. A ViHost is logged in to: the vCenter is VMware's simulator.
    [vc, win, s3, a, b] = await Promise.all([startVcsim({ listen: '::' }), startTlsPeer(winMaterial, '::'), startLocalS3(['moved']), startTestServer(env), startTestServer(env)]);
    vcThumbprint = vc.thumbprint.replace(/:/g, '');
    winThumbprint = (await opensslFacts(winMaterial.leafPem)).sha1.replace(/:/g, '');
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    // AmazonS3 repositories use the SDK's Amazon endpoint for their region; the SDK's own override
    // (AWS_ENDPOINT_URL_S3, for clients given no endpoint) sends them to the local S3 instead of AWS.
    process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
    root = await mkdtemp(path.join(tmpdir(), 'rampart-types-'));
    backupA = await backupServerOf(a, tokenA);

    const post = async (url: string, json: unknown) => {
      const res = await a.api.post(url, { token: tokenA, json });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    const vcCreds = await post('/api/v1/credentials', {
      type: 'Standard',
      username: VCSIM_USER,
      password: VCSIM_PASSWORD,
      tag: 'vc-admin',
      description: 'vCenter',
    });
    const winCreds = await post('/api/v1/credentials', { type: 'Standard', username: 'CORP\\backup', password: 'Win-Secret-1', tag: 'win-admin', description: 'Windows and SMB' });
    const s3Creds = await post('/api/v1/cloudCredentials', { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3', tag: 's3-key' });
    const azureCreds = await post('/api/v1/cloudCredentials', { type: 'AzureStorage', account: 'storeacct', sharedKey: 'Shared-Key-1', tag: 'azure-key' });

    await added(a, tokenA, SERVERS, {
      name: VC,
      description: 'vCenter stand-in',
      type: 'ViHost',
      credentialsId: vcCreds,
      port: vc.port,
      certificateThumbprint: vcThumbprint,
      viHostType: 'VC',
    });
    await added(a, tokenA, SERVERS, {
      name: ESXI,
      description: 'ESXi stand-in',
      type: 'ViHost',
      credentialsId: vcCreds,
      port: vc.port,
      certificateThumbprint: vcThumbprint.toLowerCase(),
      viHostType: 'ESXi',
    });
    winIdA = await added(a, tokenA, SERVERS, {
      name: WIN,
      description: 'Windows stand-in',
      type: 'WindowsHost',
      credentialsId: winCreds,
      port: win.port,
      certificateThumbprint: winThumbprint,
      networkSettings: {
        components: [
          { componentName: 'Transport', port: 6162 },
          { componentName: 'DeployerSvc', port: 6160 },
        ],
        portRangeStart: 2600,
        portRangeEnd: 2700,
        serverSide: true,
      },
    });
    await added(a, tokenA, PROXIES, {
      description: 'proxy on Windows',
      type: 'ViProxy',
      server: { hostId: winIdA, transportMode: 'network', failoverToNetwork: false, hostToProxyEncryption: true, maxTaskCount: 4 },
    });

    const backupMount = { mountServerId: backupA.id, writeCacheFolder: '/var/cache/veeam', vPowerNFSEnabled: false };
    const winMount = { mountServerId: winIdA, writeCacheFolder: 'C:\\Cache', vPowerNFSEnabled: true, vPowerNFSPortSettings: { mountPort: 1063, vPowerNFSPort: 1058 } };
    const repositories: Record<string, unknown>[] = [
      {
        type: 'WinLocal',
        name: 'win-local',
        description: 'D: on Windows',
        tag: 'wl-1',
        hostId: winIdA,
        repository: { path: 'D:\\Backups', enableTaskLimit: true, maxTaskCount: 4, advancedSettings: { perVmBackup: true, RotatedDriveCleanupMode: 'Disabled' } },
        mountServer: winMount,
      },
      {
        type: 'LinuxHardened',
        name: 'hardened',
        description: 'immutable',
        hostId: backupA.id,
        repository: { path: path.join(root, 'hardened'), makeRecentBackupsImmutableDays: 14, useFastCloningOnXFSVolumes: true },
        mountServer: backupMount,
      },
      {
        type: 'AzureBlob',
        name: 'azure-blob',
        description: 'blob via gateway',
        tag: 'az-1',
        account: { credentialsId: azureCreds, regionType: 'Global', connectionSettings: { connectionType: 'SelectedGateway', gatewayServerIds: [winIdA] } },
        container: { containerName: 'backups', folderName: 'veeam', storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 5, consumptionLimitKind: 'TB' } },
        proxyAppliance: { subscriptionId: SUBSCRIPTION, instanceSize: 'Standard_B2s', resourceGroup: 'rg-veeam', virtualNetwork: 'vnet', subnet: 'default', redirectorPort: 443 },
        mountServer: backupMount,
      },
      {
        type: 'IBMCloud',
        name: 'ibm',
        description: 'IBM COS on the local S3',
        enableTaskLimit: true,
        maxTaskCount: 8,
        account: { servicePoint: s3.endpoint, regionId: 'us-south', credentialsId: s3Creds, connectionSettings: { connectionType: 'SelectedGateway', gatewayServerIds: [winIdA] } },
        bucket: { bucketName: 'moved', folderName: 'ibm', storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 2, consumptionLimitKind: 'PB' } },
        mountServer: backupMount,
        proxyAppliance: { managedServerId: winIdA },
      },
      {
        type: 'AmazonS3',
        name: 'aws',
        description: 'Amazon S3 (the local S3 here)',
        enableTaskLimit: true,
        maxTaskCount: 4,
        account: { credentialsId: s3Creds, regionType: 'Global', connectionSettings: { connectionType: 'Direct' } },
        bucket: { regionId: 'us-east-1', bucketName: 'moved', folderName: 'aws', infrequentAccessStorage: { isEnabled: true, singleZoneEnabled: false } },
        mountServer: backupMount,
        proxyAppliance: { ec2InstanceType: 't3.medium', vpc: 'vpc-1', subnet: 'subnet-1', securityGroup: 'sg-1', redirectorPort: 443 },
      },
      {
        type: 'AmazonSnowballEdge',
        name: 'snowball',
        description: 'edge device',
        account: { servicePoint: s3.endpoint, regionId: 'snow', credentialsId: s3Creds, connectionSettings: { connectionType: 'Direct' } },
        bucket: { bucketName: 'moved', folderName: 'snow' },
        mountServer: backupMount,
      },
      {
        type: 'AmazonS3Glacier',
        name: 'glacier',
        description: 'archive',
        account: { credentialsId: s3Creds, regionType: 'Global', connectionSettings: { connectionType: 'Direct' } },
        bucket: { regionId: 'eu-west-1', bucketName: 'cold', folderName: 'veeam', immutabilityEnabled: true, useDeepArchive: true },
      },
      {
        type: 'AzureArchive',
        name: 'azure-archive',
        description: 'archive tier',
        account: { credentialsId: azureCreds, regionType: 'Global', connectionSettings: { connectionType: 'Direct' } },
        container: { containerName: 'archive', folderName: 'veeam' },
        proxyAppliance: { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-archive' },
      },
      {
        type: 'AzureDataBox',
        name: 'databox',
        description: 'Data Box',
        account: { serviceEndpoint: 'https://databox.example', credentialsId: azureCreds, connectionSettings: { connectionType: 'Direct' } },
        container: { containerName: 'box', folderName: 'veeam' },
      },
    ];
    if (smbd && nfsShare) {
      repositories.push(
        {
          type: 'Smb',
          name: 'smb-share',
          description: 'SMB via the Windows gateway',
          tag: 'smb-1',
          share: { sharePath: smbd.uncPath('veeam'), credentialsId: winCreds, gatewayServer: { autoSelect: false, gatewayServerIds: [winIdA] } },
          repository: { enableTaskLimit: true, maxTaskCount: 2, enableReadWriteLimit: true, readWriteRate: 200 },
          mountServer: winMount,
        },
        {
          type: 'Nfs',
          name: 'nfs-export',
          description: 'NFS',
          share: { sharePath: `${nfsShare.sharePath}/veeam`, gatewayServer: { autoSelect: true } },
          repository: { maxTaskCount: 3 },
          mountServer: backupMount,
        },
      );
    }
    for (const spec of repositories) await added(a, tokenA, REPOS, spec);
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_S3;
    await Promise.all([a?.cleanup(), b?.cleanup(), s3?.stop(), vc?.stop(), win?.close(), smbd?.stop(), nfsShare?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('managed servers: ViHost and WindowsHost travel with their pins; B probes each stand-in and compares the certificate; B then holds the same servers', async () => {
    const servers = await exportFrom(a, tokenA, 'managedServers');
    expect(servers.linuxHosts).toEqual([]);
    expect(servers.viHosts).toEqual([
      {
        name: VC,
        description: 'vCenter stand-in',
        type: 'ViHost',
        credentials: { credentialsName: 'administrator@vsphere.local', credentialsTag: 'vc-admin' },
        viHostType: 'VC',
        port: vc.port,
        certificateThumbprint: vcThumbprint,
      },
      {
        name: ESXI,
        description: 'ESXi stand-in',
        type: 'ViHost',
        credentials: { credentialsName: 'administrator@vsphere.local', credentialsTag: 'vc-admin' },
        viHostType: 'ESXi',
        port: vc.port,
        certificateThumbprint: vcThumbprint,
      },
    ]);
    expect(servers.windowsHosts).toEqual([
      {
        name: WIN,
        description: 'Windows stand-in',
        type: 'WindowsHost',
        credentials: { credentialsName: 'CORP\\backup', credentialsTag: 'win-admin' },
        port: win.port,
        certificateThumbprint: winThumbprint,
        networkSettings: {
          components: [
            { componentName: 'Transport', port: 6162 },
            { componentName: 'DeployerSvc', port: 6160 },
          ],
          portRangeStart: 2600,
          portRangeEnd: 2700,
          serverThisSide: true,
          serverSide: true,
        },
      },
    ]);
    expect(JSON.stringify(servers)).not.toMatch(UUID);

    const credentials = await exportFrom(a, tokenA, 'credentials', {}, '?seal=true', SEAL);
    expect((await importInto(b, tokenB, 'credentials', credentials, '', SEAL)).session.result.result).toBe('Success');
    const imported = await importInto(b, tokenB, 'managedServers', servers);
    const titles = titlesOf(imported.log);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    // The same checks as adding by hand, each step in the import's log: the real certificate each stand-in presents, compared with the exported pin.
    for (const [name, port, thumbprint] of [
      [VC, vc.port, vcThumbprint],
      [`[${ESXI}]`, vc.port, vcThumbprint],
      [WIN, win.port, winThumbprint],
    ] as const) {
      expect(
        titles.some((x) => x.startsWith(`Succeeded: ${name}:${port} presents certificate ${thumbprint} (`)),
        `${name} presents ${thumbprint}\n${titles.join('\n')}`,
      ).toBe(true);
    }
    expect(titles.filter((x) => x === 'Succeeded: The certificate thumbprint matches the one given')).toHaveLength(3);
    // ViHost: a real vSphere login on the checked certificate, for both ViHosts.
    expect(titles).toContain(`Succeeded: Logged in to ${VC}:${vc.port} as "${VCSIM_USER}": VMware vCenter Server 6.5.0 build-5973321 (API 6.5)`);
    expect(titles).toContain(`Succeeded: Logged in to [${ESXI}]:${vc.port} as "${VCSIM_USER}": VMware vCenter Server 6.5.0 build-5973321 (API 6.5)`);
    for (const x of [`Created ViHost "${VC}"`, `Created ViHost "${ESXI}"`, `Created WindowsHost "${WIN}"`]) expect(titles).toContain(`Succeeded: ${x}`);

    expect(await exportFrom(b, tokenB, 'managedServers')).toEqual(servers);
    // The same fields on both servers (in 1.2's spelling, with Rampart's own pins and ports); the credentials are B's own record of the same name.
    const listA = (await a.api.get(`${SERVERS}?typeFilter=ViHost,WindowsHost&orderColumn=Name`, { token: tokenA, version: '1.2-rev1', headers: EXTRAS })).body.data;
    const listB = (await b.api.get(`${SERVERS}?typeFilter=ViHost,WindowsHost&orderColumn=Name`, { token: tokenB, version: '1.2-rev1', headers: EXTRAS })).body.data;
    expect(listB).toHaveLength(3);
    expect(listB.map(portable)).toEqual(listA.map(portable));
    expect(listB.find((s: any) => s.name === WIN)).toMatchObject({
      status: 'Available',
      port: win.port,
      certificateThumbprint: winThumbprint,
      networkSettings: { portRangeStart: 2600, serverSide: true },
    });
    const credsB = (await b.api.get('/api/v1/credentials', { token: tokenB })).body.data;
    for (const s of listB) {
      expect(credsB.map((c: any) => c.id)).toContain(s.credentialsId);
      expect(credsB.find((c: any) => c.id === s.credentialsId).username).toBe(s.type === 'WindowsHost' ? 'CORP\\backup' : 'administrator@vsphere.local');
    }

    // The check is real: a server whose exported pin is not what its host presents is refused, and nothing of it is stored.
    const forged = { windowsHosts: [{ ...servers.windowsHosts[0], name: '127.0.0.4', certificateThumbprint: vcThumbprint }] };
    const refused = await importInto(b, tokenB, 'managedServers', forged);
    expect(refused.session.result.result).toBe('Failed');
    expect(titlesOf(refused.log)).toContain('Failed: The certificate thumbprint does not match');
    expect(refused.log.find((r) => r.title === 'Could not import WindowsHost "127.0.0.4"')?.description).toContain(
      `expected ${vcThumbprint}, the host presents thumbprint ${winThumbprint}`,
    );
    expect((await b.api.get(`${SERVERS}?nameFilter=127.0.0.4`, { token: tokenB })).body.pagination.total).toBe(0);
  });

  it('proxies: the proxy on the Windows server is imported after its server is probed against its pin', async () => {
    const proxies = await exportFrom(a, tokenA, 'proxies');
    expect(proxies.proxies).toEqual([
      {
        description: 'proxy on Windows',
        type: 'ViProxy',
        server: {
          hostName: WIN,
          transportMode: 'network',
          failoverToNetwork: false,
          hostToProxyEncryption: true,
          connectedDatastores: { autoSelect: true, autoSelectEnabled: true, datastores: [] },
          maxTaskCount: 4,
        },
      },
    ]);
    const imported = await importInto(b, tokenB, 'proxies', proxies);
    const titles = titlesOf(imported.log);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    expect(titles.some((x) => x.startsWith(`Succeeded: ${WIN}:${win.port} presents certificate ${winThumbprint}`))).toBe(true);
    expect(titles).toContain('Succeeded: The certificate thumbprint matches the pin');
    expect(titles).toContain(`Succeeded: Created ViProxy "${WIN}"`);
    expect(await exportFrom(b, tokenB, 'proxies')).toEqual(proxies);
    const winB = (await b.api.get(`${SERVERS}?nameFilter=${WIN}`, { token: tokenB })).body.data[0].id;
    expect((await b.api.get(`${PROXIES}?hostIdFilter=${winB}`, { token: tokenB })).body.data).toMatchObject([{ name: WIN, server: { hostId: winB, maxTaskCount: 4 } }]);
  });

  it('repositories: every type travels with its references by name; B runs the storage checks and resolves the names to its own servers', async () => {
    const exported = await exportFrom(a, tokenA, 'repositories');
    // No ids but the ones Veeam's import specs require: an Azure subscription, a proxy appliance's server (resolved by name on import).
    expect(JSON.stringify(exported).replaceAll(SUBSCRIPTION, '').replaceAll(winIdA, '')).not.toMatch(UUID);
    expect(exported.WindowsLocalRepositories).toEqual([
      {
        name: 'win-local',
        description: 'D: on Windows',
        tag: 'wl-1',
        kind: 'LocalStorage',
        type: 'WinLocal',
        hostName: WIN,
        repository: { path: 'D:\\Backups', enableTaskLimit: true, maxTaskCount: 4, advancedSettings: { perVmBackup: true, RotatedDriveCleanupMode: 'Disabled' } },
        mountServer: { mountServerName: WIN, writeCacheFolder: 'C:\\Cache', vPowerNFSEnabled: true, vPowerNFSPortSettings: { mountPort: 1063, vPowerNFSPort: 1058 } },
      },
    ]);
    expect(exported.LinuxHardenedRepositories).toEqual([
      {
        name: 'hardened',
        description: 'immutable',
        tag: '',
        kind: 'LocalStorage',
        type: 'LinuxHardened',
        hostName: backupA.name,
        repository: { path: path.join(root, 'hardened'), makeRecentBackupsImmutableDays: 14, useFastCloningOnXFSVolumes: true },
        mountServer: { mountServerName: backupA.name, writeCacheFolder: '/var/cache/veeam', vPowerNFSEnabled: false },
      },
    ]);
    expect(exported.AzureBlobStorages[0].account).toEqual({
      regionType: 'Global',
      credentials: { name: 'storeacct', tag: 'azure-key', type: 'AzureStorage' },
      connectionSettings: { connectionType: 'SelectedGateway', gatewayServers: [WIN] },
    });
    expect(exported.AzureBlobStorages[0].proxyAppliance).toEqual({
      subscriptionId: SUBSCRIPTION,
      instanceSize: 'Standard_B2s',
      resourceGroup: 'rg-veeam',
      virtualNetwork: 'vnet',
      subnet: 'default',
      redirectorPort: 443,
    });
    expect(exported.IBMCloudStorages[0]).toMatchObject({
      enableTaskLimit: true,
      maxTaskCount: 8,
      proxyAppliance: { managedServerId: winIdA, managedServerName: WIN },
      account: {
        servicePoint: s3.endpoint,
        regionId: 'us-south',
        credentials: { name: S3_ACCESS_KEY, tag: 's3-key', type: 'Amazon' },
        connectionSettings: { connectionType: 'SelectedGateway', gatewayServers: [WIN] },
      },
    });
    expect(exported.AmazonS3Storages).toEqual([
      {
        name: 'aws',
        description: 'Amazon S3 (the local S3 here)',
        tag: '',
        type: 'AmazonS3',
        enableTaskLimit: true,
        maxTaskCount: 4,
        account: { regionType: 'Global', credentials: { name: S3_ACCESS_KEY, tag: 's3-key', type: 'Amazon' }, connectionSettings: { connectionType: 'Direct' } },
        bucket: { regionId: 'us-east-1', bucketName: 'moved', folderName: 'aws', infrequentAccessStorage: { isEnabled: true, singleZoneEnabled: false } },
        mountServer: { mountServerName: backupA.name, writeCacheFolder: '/var/cache/veeam', vPowerNFSEnabled: false },
        proxyAppliance: { ec2InstanceType: 't3.medium', vpc: 'vpc-1', subnet: 'subnet-1', securityGroup: 'sg-1', redirectorPort: 443 },
      },
    ]);
    for (const key of ['AmazonSnowballEdgeStorages', 'AmazonS3GlacierStorages', 'AzureArchiveStorages', 'AzureDataBoxStorages']) expect(exported[key], key).toHaveLength(1);
    if (smbd && nfsShare) {
      expect(exported.SmbRepositories[0].share).toEqual({
        sharePath: smbd.uncPath('veeam'),
        credentials: { credentialsName: 'CORP\\backup', credentialsTag: 'win-admin' },
        gatewayServer: { autoSelect: false, gatewayServerName: WIN, gatewayServerNames: [WIN] },
      });
      expect(exported.NfsRepositories[0].share).toEqual({ sharePath: `${nfsShare.sharePath}/veeam`, gatewayServer: { autoSelect: true } });
    }
    const total = Object.values(exported as Record<string, unknown[]>).reduce((n, list) => n + list.length, 0);
    expect(total).toBe(smbd && nfsShare ? 11 : 9);

    const cloud = await exportFrom(a, tokenA, 'cloudcredentials', {}, '?seal=true', SEAL);
    expect((await importInto(b, tokenB, 'cloudcredentials', cloud, '', SEAL)).session.result.result).toBe('Success');
    const imported = await importInto(b, tokenB, 'repositories', exported);
    const titles = titlesOf(imported.log);
    // The Windows folders and shares cannot be verified from here: warnings in the log, so the import ends Warning.
    expect(imported.session.result.result, titles.join('\n')).toBe('Warning');
    expect(
      titles.some((x) => x.startsWith('Warning: ') && /not verified/.test(x)),
      titles.join('\n'),
    ).toBe(true);
    expect(titles.filter((x) => /^Succeeded: Repository ".*" saved$/.test(x))).toHaveLength(total);
    // The checks each type gets when added by hand, in the import's log.
    expect(titles).toContain(`Warning: Windows host "${WIN}": Rampart has no Windows agent, so the folder, its free space and write access are not verified`);
    expect(titles).toContain(`Succeeded: Folder ${path.join(root, 'hardened')} exists`);
    expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${path.join(root, 'hardened')}`);
    expect(titles.filter((x) => x === 'Succeeded: Bucket "moved" exists and the credentials are accepted')).toHaveLength(3);
    expect(titles).toContain('Succeeded: Folder "aws" is in place');
    expect(titles).toContain('Warning: AzureBlob: settings validated and stored; Rampart does not connect to this storage, so access and capacity are not verified');
    if (smbd && nfsShare) {
      // The SMB share: a real login with B's record of the Windows credentials, a probe file and the share's size.
      expect(titles).toContain(`Succeeded: Logged in to \\\\${smbd.address}\\backups`);
      expect(titles).toContain(`Succeeded: Wrote, read back and deleted a probe file in ${smbd.uncPath('veeam')}`);
      // The NFS export: mounted by Rampart's NFSv3 client.
      expect(titles).toContain(`Succeeded: Mounted export ${nfsShare.exportDir} from ${nfsShare.address}`);
    }
    expect((await stat(path.join(root, 'hardened'))).isDirectory()).toBe(true);

    // The same collections, but for the proxy appliance's server id, which is B's own.
    const again = await exportFrom(b, tokenB, 'repositories');
    const winOnB = (await b.api.get(`${SERVERS}?nameFilter=${WIN}`, { token: tokenB })).body.data[0].id;
    expect(JSON.parse(JSON.stringify(again).replaceAll(winOnB, winIdA))).toEqual(exported);
    // The names resolved to B's own objects, not A's ids.
    const winB = (await b.api.get(`${SERVERS}?nameFilter=${WIN}`, { token: tokenB })).body.data[0].id;
    expect(winB).not.toBe(winIdA);
    const ibm = (await b.api.get(`${REPOS}?nameFilter=ibm`, { token: tokenB })).body.data[0];
    const s3B = (await b.api.get('/api/v1/cloudCredentials?typeFilter=Amazon', { token: tokenB })).body.data[0].id;
    expect(ibm).toMatchObject({ proxyAppliance: { managedServerId: winB }, account: { credentialsId: s3B, connectionSettings: { gatewayServerIds: [winB] } } });
    expect((await b.api.get(`${REPOS}?nameFilter=win-local`, { token: tokenB })).body.data[0]).toMatchObject({ hostId: winB, mountServer: { mountServerId: winB } });
    if (smbd && nfsShare) {
      const smb = (await b.api.get(`${REPOS}?nameFilter=smb-share`, { token: tokenB })).body.data[0];
      const winCredsB = (await b.api.get('/api/v1/credentials?nameFilter=CORP*', { token: tokenB })).body.data[0].id;
      expect(smb.share).toMatchObject({ credentialsId: winCredsB, gatewayServer: { autoSelect: false, gatewayServerIds: [winB] } });
    }
    // The Windows server is now in use on B: it cannot be removed from under the repositories and the proxy.
    const removal = await b.api.request('DELETE', `${SERVERS}/${winB}`, { token: tokenB });
    expect(removal.status).toBe(201);
    await b.server.runner.settled(removal.body.id);
    expect((await b.api.get(`/api/v1/sessions/${removal.body.id}`, { token: tokenB })).body.result.message).toMatch(/cannot be removed: it is used by/);
  });
});
