import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';

let t: TestServer;
let token: string;
let s3: LocalS3;
let cloudId: string;
let backupServerId: string;

/** More top-level folders than one listing page (1000) holds: the browser must follow the pages. */
const MANY = 1010;

beforeAll(async () => {
  s3 = await startLocalS3(['alpha', 'beta']);
  await s3.client.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'veeam/data.bin', Body: 'x' }));
  // One level deep: s3rver (unlike S3) leaves keys two levels deep out of the delimiter's common prefixes.
  await s3.client.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'archive/old.bin', Body: 'x' }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'loose-file', Body: 'x' }));
  for (let i = 0; i < MANY; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, MANY - i) }, (_, j) => s3.client.send(new PutObjectCommand({ Bucket: 'beta', Key: `f${String(i + j).padStart(4, '0')}/x`, Body: 'x' }))),
    );
  }
  t = await startTestServer({ RAMPART_REPOSITORY_REFRESH_SECONDS: '0', RAMPART_REPOSITORY_TIMEOUT_MS: '5000' });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
  const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3' } });
  expect(cloud.status).toBe(201);
  cloudId = cloud.body.id;
}, 120_000);
afterAll(async () => {
  await t?.cleanup();
  await s3?.stop();
});

const browse = (json: unknown, version?: string) => t.api.post('/api/v1/cloudBrowser', { token, json, version });

describe('cloud browser', () => {
  it('lists the buckets of an S3-compatible service with their top-level folders, across listing pages', async () => {
    const res = await browse({ credentialsId: cloudId, serviceType: 'S3Compatible', servicePoint: s3.endpoint, regionId: 'us-east-1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ credentialsId: cloudId, serviceType: 'S3Compatible', hostId: backupServerId, connectionPoint: s3.endpoint });
    expect(res.body.regions).toHaveLength(1);
    expect(res.body.regions[0]).toMatchObject({ id: 'us-east-1', name: 'us-east-1' });
    const buckets = res.body.regions[0].buckets;
    expect(buckets.map((b: { name: string }) => b.name)).toEqual(['alpha', 'beta']);
    expect(buckets[0].folders.sort()).toEqual(['archive', 'veeam']);
    expect(buckets[1].folders).toHaveLength(MANY);
    expect(new Set(buckets[1].folders).size).toBe(MANY);
  });

  it('filters by bucket name (the documented filters)', async () => {
    const res = await browse(
      { credentialsId: cloudId, serviceType: 'S3Compatible', servicePoint: s3.endpoint, filters: { regionId: 'eu-west-1', bucketName: 'alpha' } },
      '1.3-rev0',
    );
    expect(res.status).toBe(200);
    expect(res.body.regions[0].id).toBe('eu-west-1');
    expect(res.body.regions[0].buckets.map((b: { name: string }) => b.name)).toEqual(['alpha']);
  });

  it('creates a folder that the next browse shows; refuses a second one and bad names', async () => {
    const spec = {
      credentialsId: cloudId,
      serviceType: 'S3Compatible',
      connectionPoint: s3.endpoint,
      regionId: 'us-east-1',
      bucketName: 'alpha',
      newFolderName: 'rampart-backups',
    };
    const made = await t.api.post('/api/v1/cloudBrowser/newFolder', { token, json: spec });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({});
    await s3.client.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'rampart-backups/' }));
    const res = await browse({ credentialsId: cloudId, serviceType: 'S3Compatible', servicePoint: s3.endpoint, filters: { regionId: 'us-east-1', bucketName: 'alpha' } });
    expect(res.body.regions[0].buckets[0].folders).toContain('rampart-backups');
    const again = await t.api.post('/api/v1/cloudBrowser/newFolder', { token, json: spec });
    expect(again.status).toBe(400);
    expect(again.body.message).toMatch(/already exists/);
    const slash = await t.api.post('/api/v1/cloudBrowser/newFolder', { token, json: { ...spec, newFolderName: 'a/b' } });
    expect(slash.status).toBe(400);
    expect(slash.body.message).toContain('newFolderName');
  });

  it('answers 400 naming the field for bad input and for what the service refuses', async () => {
    expect((await browse({ credentialsId: cloudId, serviceType: 'S3Compatible' })).body.message).toContain('servicePoint');
    const unknown = await browse({ credentialsId: '3fa85f64-5717-4562-b3fc-2c963f66afa6', serviceType: 'S3Compatible', servicePoint: s3.endpoint });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('credentialsId');
    const azure = await browse({ credentialsId: cloudId, serviceType: 'AzureCompute' });
    expect(azure.status).toBe(400);
    expect(azure.body.message).toContain('serviceType');
    const noBucket = await t.api.post('/api/v1/cloudBrowser/newFolder', {
      token,
      json: { credentialsId: cloudId, serviceType: 'S3Compatible', connectionPoint: s3.endpoint, regionId: 'us-east-1', bucketName: 'missing', newFolderName: 'x' },
    });
    expect(noBucket.status).toBe(400);
    expect(noBucket.body.message).toMatch(/does not exist/);
    const wrongKey = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: 'NOBODY', secretKey: 'nope-secret-key', description: 'bad' } });
    const denied = await browse({ credentialsId: wrongKey.body.id, serviceType: 'S3Compatible', servicePoint: s3.endpoint });
    expect(denied.status).toBe(400);
    expect(denied.text).not.toContain('nope-secret-key');
    expect((await t.api.post('/api/v1/cloudBrowser', { token, json: { serviceType: 'S3Compatible' } })).status).toBe(400);
  });
});
