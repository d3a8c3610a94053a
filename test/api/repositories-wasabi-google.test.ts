import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { googleEndpoint, wasabiEndpoint } from '../../src/storage/object-endpoint.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { S3_ACCESS_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { startS3Gateway, type S3Gateway } from '../support/s3-gateway.js';
import { backupServerOf, exportFrom, importInto, infrastructureSession, REPOS, titlesOf } from './automation-support.js';

/**
 * WasabiCloud and GoogleCloud repositories with their endpoints overridden
 * (RAMPART_WASABI_ENDPOINT, RAMPART_GOOGLE_STORAGE_ENDPOINT) to the local S3
 * stand-in, each behind a gateway that checks every request's V4 signature
 * against the secret key (s3rver alone accepts any). The Wasabi template puts the
 * region in the path, so the gateway sees whether it was filled in. The real
 * Wasabi and Google endpoints are never reached from here (no internet access).
 */

const WASABI_KEY = 'WASABIKEY0001';
const WASABI_SECRET = 'wasabi/Secret+Key/0001';
const GOOGLE_KEY = 'GOOG1EHMACKEY0001';
const GOOGLE_SECRET = 'google-hmac-secret-0001';
const REGION = 'eu-central-2';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const TiB = 1024 ** 4;

describe('WasabiCloud and GoogleCloud repositories at configured endpoints', () => {
  let s3: LocalS3;
  let wasabiGw: S3Gateway;
  let googleGw: S3Gateway;
  let a: TestServer;
  let b: TestServer;
  let tokenA: string;
  let tokenB: string;
  let backupA: { id: string; name: string };
  let wasabiCreds: string;
  let googleCreds: string;
  let wasabiAt: string;

  const mountServer = () => ({ mountServerId: backupA.id, writeCacheFolder: '/var/cache/veeam', vPowerNFSEnabled: false });
  const wasabiSpec = (name: string, credentialsId: string, bucketName = 'wasabi-bucket') => ({
    type: 'WasabiCloud',
    name,
    description: 'Wasabi through the gateway',
    tag: `tag-${name}`,
    enableTaskLimit: true,
    maxTaskCount: 4,
    account: { regionId: REGION, credentialsId, connectionSettings: { connectionType: 'Direct' } },
    bucket: { bucketName, folderName: 'veeam', storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 10, consumptionLimitKind: 'TB' } },
    mountServer: mountServer(),
  });
  const googleSpec = (name: string, credentialsId: string, bucketName = 'gcs-bucket') => ({
    type: 'GoogleCloud',
    name,
    description: 'Google Cloud Storage through the gateway',
    enableTaskLimit: false,
    maxTaskCount: 1,
    account: { regionId: 'us-central1', credentialsId, connectionSettings: { connectionType: 'Direct' } },
    bucket: { bucketName, folderName: 'veeam' },
    mountServer: mountServer(),
  });
  const cloudCredentials = async (json: Record<string, unknown>) => {
    const res = await a.api.post('/api/v1/cloudCredentials', { token: tokenA, json });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const bucketKeys = async (bucket: string) => ((await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();

  beforeAll(async () => {
    s3 = await startLocalS3(['wasabi-bucket', 'gcs-bucket']);
    await s3.putCapacityXml('gcs-bucket', { capacity: 4 * TiB, available: TiB, used: 3 * TiB }, 'veeam');
    const secrets = { [WASABI_KEY]: WASABI_SECRET, [GOOGLE_KEY]: GOOGLE_SECRET };
    [wasabiGw, googleGw] = await Promise.all([
      startS3Gateway(s3.port, { secrets, pathPrefix: `/${REGION}`, upstreamAccessKey: S3_ACCESS_KEY }),
      startS3Gateway(s3.port, { secrets, upstreamAccessKey: S3_ACCESS_KEY }),
    ]);
    wasabiAt = `${wasabiGw.endpoint}/${REGION}`;
    const env = {
      RAMPART_REPOSITORY_REFRESH_SECONDS: '0',
      RAMPART_REPOSITORY_TIMEOUT_MS: '3000',
      RAMPART_WASABI_ENDPOINT: `${wasabiGw.endpoint}/{region}`,
      RAMPART_GOOGLE_STORAGE_ENDPOINT: googleGw.endpoint,
    };
    [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
    [tokenA, tokenB] = await Promise.all([a.adminToken(), b.adminToken()]);
    backupA = await backupServerOf(a, tokenA);
    wasabiCreds = await cloudCredentials({ type: 'Amazon', accessKey: WASABI_KEY, secretKey: WASABI_SECRET, description: 'Wasabi', tag: 'wasabi-key' });
    googleCreds = await cloudCredentials({ type: 'Google', accessKey: GOOGLE_KEY, secretKey: GOOGLE_SECRET, description: 'Google HMAC', tag: 'google-key' });
  });
  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup(), wasabiGw?.stop(), googleGw?.stop()]);
    await s3?.stop();
  });

  it('config: the overrides are in the configuration and addressed path style; unset (or set to the public ones), the public endpoints, virtual-host style', () => {
    expect(a.config.wasabiEndpoint).toBe(`${wasabiGw.endpoint}/{region}`);
    expect(a.config.googleStorageEndpoint).toBe(googleGw.endpoint);
    expect(wasabiEndpoint(REGION, a.config.wasabiEndpoint)).toEqual({ endpoint: `${wasabiGw.endpoint}/${REGION}`, forcePathStyle: true });
    expect(googleEndpoint(a.config.googleStorageEndpoint)).toEqual({ endpoint: googleGw.endpoint, forcePathStyle: true });
    for (const env of [{}, { RAMPART_WASABI_ENDPOINT: 'https://s3.{region}.wasabisys.com/', RAMPART_GOOGLE_STORAGE_ENDPOINT: 'https://storage.googleapis.com' }]) {
      const config = loadConfig({ RAMPART_DATA_DIR: '/nonexistent', ...env });
      expect(config).toMatchObject({ wasabiEndpoint: undefined, googleStorageEndpoint: undefined });
      expect(wasabiEndpoint('us-east-2', config.wasabiEndpoint)).toEqual({ endpoint: 'https://s3.us-east-2.wasabisys.com', forcePathStyle: false });
      expect(googleEndpoint(config.googleStorageEndpoint)).toEqual({ endpoint: 'https://storage.googleapis.com', forcePathStyle: false });
    }
    // The region goes into a host name or path: only region-id characters.
    expect(() => wasabiEndpoint('eu/../evil', undefined)).toThrow(/not a region id/);
  });

  it('WasabiCloud: the bucket checks run at the configured endpoint, region filled in, path style, signed with the secret key', async () => {
    const before = wasabiGw.requests.length;
    const { session, log, resourceId } = await infrastructureSession(a, tokenA, REPOS, wasabiSpec('wasabi', wasabiCreds));
    const titles = titlesOf(log);
    expect(session.result.result, titles.join('\n')).toBe('Success');
    expect(titles).toEqual(
      expect.arrayContaining([
        'Succeeded: Bucket "wasabi-bucket" exists and the credentials are accepted',
        'Succeeded: Folder "veeam" is in place',
        'Succeeded: Wrote, read back and deleted a probe object',
        'Succeeded: No capacity report in the bucket; capacity is the storage consumption limit: 10240.00 GB, used 0.00 GB',
        'Succeeded: Repository "wasabi" saved',
      ]),
    );
    // Every request went through the gateway: region in the path (the template's {region}), bucket in the path
    // (path style: the host is the gateway's, not "wasabi-bucket.…"), signed for the region with the right secret.
    const seen = wasabiGw.requests.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    for (const r of seen) {
      expect(r).toMatchObject({ host: `127.0.0.1:${wasabiGw.port}`, accessKey: WASABI_KEY, region: REGION, verdict: 'ok' });
      expect(r.path).toMatch(new RegExp(`^/${REGION}/wasabi-bucket/`));
    }
    expect(seen.map((r) => r.method)).toEqual(expect.arrayContaining(['HEAD', 'PUT', 'GET', 'DELETE']));
    // The folder marker is really in the stand-in's bucket; the probe object is gone.
    await s3.client.send(new HeadObjectCommand({ Bucket: 'wasabi-bucket', Key: 'veeam/' }));
    expect(await bucketKeys('wasabi-bucket')).toEqual(['veeam/']);

    const state = (await a.api.get(`${REPOS}/states?idFilter=${resourceId}`, { token: tokenA, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } })).body.data[0];
    expect(state).toMatchObject({
      type: 'WasabiCloud',
      capacityGB: 10240,
      freeGB: 10240,
      usedSpaceGB: 0,
      capacitySource: 'consumptionLimit',
      path: 'wasabi-bucket/veeam',
      isOnline: true,
    });
  });

  it("GoogleCloud: the bucket checks run at the configured endpoint, path style, with the HMAC key; capacity from the bucket's capacity.xml", async () => {
    const before = googleGw.requests.length;
    const { session, log, resourceId } = await infrastructureSession(a, tokenA, REPOS, googleSpec('gcs', googleCreds));
    const titles = titlesOf(log);
    expect(session.result.result, titles.join('\n')).toBe('Success');
    expect(titles).toEqual(
      expect.arrayContaining([
        'Succeeded: Bucket "gcs-bucket" exists and the credentials are accepted',
        'Succeeded: Folder "veeam" is in place',
        'Succeeded: Wrote, read back and deleted a probe object',
        "Succeeded: Capacity from the bucket's Smart Object Storage API: 4096.00 GB, free 1024.00 GB",
        'Succeeded: Repository "gcs" saved',
      ]),
    );
    const seen = googleGw.requests.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    for (const r of seen) {
      expect(r).toMatchObject({ host: `127.0.0.1:${googleGw.port}`, accessKey: GOOGLE_KEY, region: 'us-central1', verdict: 'ok' });
      expect(r.path).toMatch(/^\/gcs-bucket\//);
    }
    await s3.client.send(new HeadObjectCommand({ Bucket: 'gcs-bucket', Key: 'veeam/' }));
    const state = (await a.api.get(`${REPOS}/states?idFilter=${resourceId}`, { token: tokenA, version: '1.2-rev1', headers: { 'x-rampart-extras': 'true' } })).body.data[0];
    expect(state).toMatchObject({ type: 'GoogleCloud', capacityGB: 4096, freeGB: 1024, usedSpaceGB: 3072, capacitySource: 'sosapi', path: 'gcs-bucket/veeam', isOnline: true });
  });

  it('a rescan measures both at their configured endpoints', async () => {
    const ids = (await a.api.get(`${REPOS}?typeFilter=WasabiCloud,GoogleCloud`, { token: tokenA })).body.data.map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(2);
    const [w, g] = [wasabiGw.requests.length, googleGw.requests.length];
    const res = await a.api.post(`${REPOS}/rescan`, { token: tokenA, version: '1.2-rev1', json: { repositoryIds: ids } });
    expect(res.status, res.text).toBe(201);
    await a.server.runner.settled(res.body.id);
    expect((await a.api.get(`/api/v1/sessions/${res.body.id}`, { token: tokenA })).body.result.result).toBe('Success');
    // Measurements only read (the rescan also looks for backups to re-import: HEAD/GET).
    for (const r of [...wasabiGw.requests.slice(w), ...googleGw.requests.slice(g)]) {
      expect(r).toMatchObject({ verdict: 'ok' });
      expect(['GET', 'HEAD']).toContain(r.method);
    }
    expect(wasabiGw.requests.length).toBeGreaterThan(w);
    expect(googleGw.requests.length).toBeGreaterThan(g);
  });

  it('a wrong secret key or a missing bucket fails the session saying what to fix, and stores nothing', async () => {
    const wrongWasabi = await cloudCredentials({ type: 'Amazon', accessKey: WASABI_KEY, secretKey: 'not-the-wasabi-secret', tag: 'wasabi-wrong' });
    const wrongGoogle = await cloudCredentials({ type: 'Google', accessKey: GOOGLE_KEY, secretKey: 'not-the-google-secret', tag: 'google-wrong' });
    const contents = { wasabi: await bucketKeys('wasabi-bucket'), gcs: await bucketKeys('gcs-bucket') };
    const cases: [Record<string, unknown>, S3Gateway, string][] = [
      [wasabiSpec('w-wrong-secret', wrongWasabi), wasabiGw, `The service point refused the secret key of access key "${WASABI_KEY}"; check the cloud credentials.`],
      [
        wasabiSpec('w-no-bucket', wasabiCreds, 'no-such-bucket'),
        wasabiGw,
        `The bucket "no-such-bucket" at ${wasabiAt} does not exist; create it first or correct the bucket name.`,
      ],
      [googleSpec('g-wrong-secret', wrongGoogle), googleGw, `The service point refused the secret key of access key "${GOOGLE_KEY}"; check the cloud credentials.`],
      [
        googleSpec('g-no-bucket', googleCreds, 'no-such-bucket'),
        googleGw,
        `The bucket "no-such-bucket" at ${googleGw.endpoint} does not exist; create it first or correct the bucket name.`,
      ],
    ];
    for (const [spec, gateway, message] of cases) {
      const before = gateway.requests.length;
      const { session, log, resourceId } = await infrastructureSession(a, tokenA, REPOS, spec);
      expect(session.result, String(spec.name)).toMatchObject({ result: 'Failed', message });
      expect(log.find((r) => r.status === 'Failed')?.title, titlesOf(log).join('\n')).toMatch(/^Connecting to .* and opening bucket/);
      expect(JSON.stringify(log)).not.toMatch(/not-the-(wasabi|google)-secret/);
      expect((await a.api.get(`${REPOS}/${resourceId}`, { token: tokenA })).status).toBe(404);
      expect((await a.api.get(`${REPOS}?nameFilter=${String(spec.name)}`, { token: tokenA })).body.pagination.total).toBe(0);
      const seen = gateway.requests.slice(before);
      // Stopped at the first step: HeadBucket (and, after a bare 403, one listing that says why).
      expect(seen.map((r) => r.method)).toEqual(/wrong-secret/.test(String(spec.name)) ? ['HEAD', 'GET'] : ['HEAD']);
      if (/wrong-secret/.test(String(spec.name))) for (const r of seen) expect(r.verdict).toBe('SignatureDoesNotMatch');
    }
    expect({ wasabi: await bucketKeys('wasabi-bucket'), gcs: await bucketKeys('gcs-bucket') }).toEqual(contents);
    expect((await a.api.get(`${REPOS}?typeFilter=WasabiCloud,GoogleCloud`, { token: tokenA })).body.pagination.total).toBe(2);
  });

  it('automation round trip: exported from A, imported into B (same overrides; B runs the bucket checks), exported again from B unchanged', async () => {
    const exported = await exportFrom(a, tokenA, 'repositories', { types: ['WasabiCloud', 'GoogleCloud'] });
    expect(JSON.stringify(exported)).not.toMatch(UUID);
    const mount = { mountServerName: backupA.name, writeCacheFolder: '/var/cache/veeam', vPowerNFSEnabled: false };
    expect(exported.WasabiCloudStorages).toEqual([
      {
        name: 'wasabi',
        description: 'Wasabi through the gateway',
        tag: 'tag-wasabi',
        type: 'WasabiCloud',
        enableTaskLimit: true,
        maxTaskCount: 4,
        account: { regionId: REGION, credentials: { name: WASABI_KEY, tag: 'wasabi-key', type: 'Amazon' }, connectionSettings: { connectionType: 'Direct' } },
        bucket: { bucketName: 'wasabi-bucket', folderName: 'veeam', storageConsumptionLimit: { isEnabled: true, consumptionLimitCount: 10, consumptionLimitKind: 'TB' } },
        mountServer: mount,
      },
    ]);
    expect(exported.GoogleCloudStorages).toEqual([
      {
        name: 'gcs',
        description: 'Google Cloud Storage through the gateway',
        tag: '',
        type: 'GoogleCloud',
        enableTaskLimit: false,
        maxTaskCount: 1,
        account: { regionId: 'us-central1', credentials: { name: GOOGLE_KEY, tag: 'google-key', type: 'Google' }, connectionSettings: { connectionType: 'Direct' } },
        bucket: { bucketName: 'gcs-bucket', folderName: 'veeam' },
        mountServer: mount,
      },
    ]);
    const total = Object.values(exported as Record<string, unknown[]>).reduce((n, list) => n + list.length, 0);
    expect(total).toBe(2);

    // The cloud credentials first, sealed, so B's checks can sign in.
    const seal = { 'x-rampart-seal-passphrase': 'correct horse battery staple' };
    const cloud = await exportFrom(a, tokenA, 'cloudcredentials', { types: ['Amazon', 'Google'] }, '?seal=true', seal);
    expect((await importInto(b, tokenB, 'cloudcredentials', cloud, '', seal)).session.result.result).toBe('Success');
    const [w, g] = [wasabiGw.requests.length, googleGw.requests.length];
    const imported = await importInto(b, tokenB, 'repositories', exported);
    const titles = titlesOf(imported.log);
    expect(imported.session.result.result, titles.join('\n')).toBe('Success');
    expect(titles).toEqual(
      expect.arrayContaining([
        'Succeeded: Bucket "wasabi-bucket" exists and the credentials are accepted',
        'Succeeded: Bucket "gcs-bucket" exists and the credentials are accepted',
        'Succeeded: No capacity report in the bucket; capacity is the storage consumption limit: 10240.00 GB, used 0.00 GB',
        "Succeeded: Capacity from the bucket's Smart Object Storage API: 4096.00 GB, free 1024.00 GB",
        'Succeeded: Repository "wasabi" saved',
        'Succeeded: Repository "gcs" saved',
      ]),
    );
    expect(titles.filter((x) => x === 'Succeeded: Folder "veeam" is in place')).toHaveLength(2);
    // B went to the same configured endpoints, with the secret keys that travelled sealed.
    for (const r of wasabiGw.requests.slice(w)) expect(r).toMatchObject({ accessKey: WASABI_KEY, region: REGION, verdict: 'ok' });
    for (const r of googleGw.requests.slice(g)) expect(r).toMatchObject({ accessKey: GOOGLE_KEY, verdict: 'ok' });
    expect(wasabiGw.requests.length - w).toBeGreaterThanOrEqual(5);
    expect(googleGw.requests.length - g).toBeGreaterThanOrEqual(5);

    expect(await exportFrom(b, tokenB, 'repositories', { types: ['WasabiCloud', 'GoogleCloud'] })).toEqual(exported);
    // The names resolved to B's own cloud credentials.
    const credsB = (await b.api.get('/api/v1/cloudCredentials?typeFilter=Amazon,Google', { token: tokenB })).body.data as { id: string; tag: string }[];
    const byTag = (tag: string) => credsB.find((c) => c.tag === tag)!.id;
    expect(byTag('wasabi-key')).not.toBe(wasabiCreds);
    const reposB = (await b.api.get(`${REPOS}?typeFilter=WasabiCloud,GoogleCloud&orderColumn=Name`, { token: tokenB })).body.data;
    expect(reposB).toMatchObject([
      { name: 'gcs', type: 'GoogleCloud', account: { credentialsId: byTag('google-key') } },
      { name: 'wasabi', type: 'WasabiCloud', account: { credentialsId: byTag('wasabi-key'), regionId: REGION } },
    ]);
  });

  it("the same item with a wrong secret key on B is refused by B's checks and not stored", async () => {
    // B's "wasabi-wrong" record (imported sealed) holds the wrong secret; an item naming it fails like an add by hand.
    const item = { ...(await exportFrom(a, tokenA, 'repositories', { types: ['WasabiCloud'] })).WasabiCloudStorages[0] };
    const moved = {
      ...item,
      name: 'wasabi-wrong',
      tag: 'tag-wasabi-wrong',
      account: { ...item.account, credentials: { name: WASABI_KEY, tag: 'wasabi-wrong', type: 'Amazon' } },
    };
    const imported = await importInto(b, tokenB, 'repositories', { WasabiCloudStorages: [moved] });
    expect(imported.session.result.result).toBe('Failed');
    expect(imported.log.map((r) => r.description).join('\n')).toContain(`The service point refused the secret key of access key "${WASABI_KEY}"; check the cloud credentials.`);
    expect((await b.api.get(`${REPOS}?nameFilter=wasabi-wrong`, { token: tokenB })).body.pagination.total).toBe(0);
  });
});
