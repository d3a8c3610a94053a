import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import { startSsh2Peer, sshKeyPair, type Peer } from '../support/peers.js';

const BASE = '/api/v1/backupInfrastructure/managedServers';
/** Asks for Rampart's own fields (isBackupServer before 1.3, pins, host facts) beside the documented ones. */
const EXTRAS = { 'x-rampart-extras': 'true' };

describe.skipIf(!postgresUrl)('managed servers on PostgreSQL: list, add, get', () => {
  let t: TestServer;
  let token: string;
  let peer: Peer;
  beforeAll(async () => {
    t = await startTestServer({ DATABASE_URL: await createTestDatabase() });
    t.api.strict = true;
    token = await t.adminToken();
    peer = await startSsh2Peer({ hostKeys: [sshKeyPair('ecdsa').private], username: 'pg', password: 'Pg-Peer-1' });
  });
  afterAll(async () => {
    await peer?.close();
    await t?.cleanup();
  });

  it('lists the backup server, adds a LinuxHost through a session and reads it back with its facts (bigint free space)', async () => {
    const first = await t.api.get(BASE, { token, headers: EXTRAS });
    expect(first.body.data.filter((s: any) => s.isBackupServer)).toHaveLength(1);
    const credentialsId = (await t.api.post('/api/v1/credentials', { token, json: { type: 'Linux', username: 'pg', password: 'Pg-Peer-1', SSHPort: peer.port } })).body.id;
    const { fingerprint } = (await t.api.post('/api/v1/connectionCertificate', { token, json: { serverName: '127.0.0.1', credentialsId, type: 'LinuxHost' } })).body;
    const started = await t.api.post(BASE, { token, json: { name: '127.0.0.1', description: 'on postgres', type: 'LinuxHost', credentialsId, sshFingerprint: fingerprint } });
    expect(started.status).toBe(201);
    let done: any;
    for (let i = 0; i < 200 && done?.state !== 'Stopped'; i++) {
      done = (await t.api.get(`/api/v1/sessions/${started.body.id}`, { token })).body;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(done.result.result).toBe('Success');
    const got = await t.api.get(`${BASE}/${started.body.resourceId}`, { token, headers: EXTRAS });
    expect(got.body).toMatchObject({ name: '127.0.0.1', status: 'Available', sshFingerprint: fingerprint, hostInfo: { rootFreeBytes: 600000 * 1024 } });
    const list = await t.api.get(`${BASE}?typeFilter=LinuxHost&nameFilter=*postgres*`, { token });
    expect(list.body.data.map((s: any) => s.id)).toEqual([started.body.resourceId]);
  });
});
