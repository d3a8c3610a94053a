import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { closedPort, makeTlsMaterial, startHttpPeer, startSilentPeer, startSsh2Peer, sshKeyPair, startTlsPeer, type Peer } from '../support/peers.js';
import { haveSshd, keyscanFingerprints, startSshd, type Sshd } from '../support/sshd.js';
import { opensslFacts } from '../support/tls.js';

const UNKNOWN = '11111111-2222-4333-8444-555555555555';
const CERTIFICATE_FIELDS = ['thumbprint', 'serialNumber', 'keyAlgorithm', 'keySize', 'subject', 'issuedTo', 'issuedBy', 'validFrom', 'validBy'].sort();

let t: TestServer;
let token: string;
let standardId: string;
let linuxId: string;
const peers: Peer[] = [];

beforeAll(async () => {
  t = await startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '1500' });
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
  standardId = (await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'vsphere.local\\admin', password: 'Std-Secret-9' } })).body.id;
  linuxId = (await t.api.post('/api/v1/credentials', { token, json: { type: 'Linux', username: 'probe', password: 'Lx-Secret-9' } })).body.id;
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await t.cleanup();
});

const probe = (json: unknown, version?: string) => t.api.post('/api/v1/connectionCertificate', { token, json, version });

describe('POST /api/v1/connectionCertificate', () => {
  it('answers 201 with the documented CertificateModel of a TLS host, no fingerprint field; 1.3 clients also get isTrusted', async () => {
    const material = await makeTlsMaterial('rsa', { chained: true, cn: 'vcenter.test' });
    const peer = await startTlsPeer(material);
    peers.push(peer);
    const res = await probe({ serverName: '127.0.0.1', credentialsId: standardId, type: 'ViHost', port: peer.port });
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('fingerprint');
    expect(Object.keys(res.body.certificate).sort()).toEqual(CERTIFICATE_FIELDS);
    const facts = await opensslFacts(material.leafPem);
    expect(res.body.certificate).toMatchObject({
      thumbprint: facts.sha1.replace(/:/g, ''),
      keyAlgorithm: 'RSA-PKCS1-KeyEx',
      keySize: '2048',
      subject: 'CN=vcenter.test',
      issuedTo: 'vcenter.test',
      issuedBy: 'Rampart Test CA',
    });
    expect(new Date(res.body.certificate.validBy).getTime()).toBe(facts.notAfter.getTime());
    const v13 = await probe({ serverName: 'localhost', credentialsId: standardId, type: 'WindowsHost', port: peer.port }, '1.3-rev1');
    expect(v13.status).toBe(201);
    expect(v13.body.certificate.isTrusted).toBe(false);
  });

  it('answers with the OpenSSH SHA256 fingerprint of an SSH host, no certificate field (port from the Linux credentials when absent)', async () => {
    const host = sshKeyPair();
    const peer = await startSsh2Peer({ hostKeys: [host.private], username: 'probe', password: 'x' });
    peers.push(peer);
    const res = await probe({ serverName: '127.0.0.1', credentialsId: linuxId, type: 'LinuxHost', port: peer.port });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/) });
    // 1.2 shape: single-use credentials instead of a record; their SSHPort is the port.
    const v12 = await probe(
      { serverName: '127.0.0.1', type: 'LinuxHost', credentialsStorageType: 'SingleUse', singleUseCredentials: { username: 'probe', password: 'x', SSHPort: peer.port } },
      '1.2-rev1',
    );
    expect(v12.status).toBe(201);
    expect(v12.body.fingerprint).toBe(res.body.fingerprint);
  });

  it.skipIf(!haveSshd)('matches ssh-keyscan | ssh-keygen -lf for a real sshd, over ::1 too', async () => {
    const sshd: Sshd = await startSshd();
    try {
      const expected = await keyscanFingerprints(sshd.port);
      const res = await probe({ serverName: '::1', credentialsId: linuxId, type: 'LinuxHost', port: sshd.port });
      expect(res.status).toBe(201);
      expect(Object.values(expected)).toContain(res.body.fingerprint);
      expect(expected['ssh-ed25519']).toBe(res.body.fingerprint);
    } finally {
      await sshd.stop();
    }
  });

  it('fails fast with a 400 saying what happened', async () => {
    const refused = await probe({ serverName: '127.0.0.1', credentialsId: standardId, type: 'ViHost', port: await closedPort() });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ errorCode: 'UnexpectedContent', message: expect.stringMatching(/refused/) });
    const unknown = await probe({ serverName: 'nonexistent.invalid', credentialsId: standardId, type: 'ViHost' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/"nonexistent.invalid" does not resolve/);
    const silent = await startSilentPeer();
    peers.push(silent);
    const started = Date.now();
    const timedOut = await probe({ serverName: '127.0.0.1', credentialsId: linuxId, type: 'LinuxHost', port: silent.port });
    expect(timedOut.status).toBe(400);
    expect(timedOut.body.message).toMatch(/timed out after 1500 ms/);
    expect(Date.now() - started).toBeLessThan(4000);
    const httpPeer = await startHttpPeer();
    peers.push(httpPeer);
    const plain = await probe({ serverName: '127.0.0.1', credentialsId: standardId, type: 'ViHost', port: httpPeer.port });
    expect(plain.status).toBe(400);
    expect(plain.body.message).toMatch(/does not speak TLS: it is a plain HTTP server/);
  });

  it('checks the body before connecting anywhere', async () => {
    const cases: [unknown, RegExp][] = [
      [{ serverName: 'h', credentialsId: standardId, type: 'Mainframe' }, /WindowsHost, LinuxHost, ViHost/],
      [{ credentialsId: standardId, type: 'ViHost' }, /serverName/],
      [{ serverName: 'h', credentialsId: 'not-a-uuid', type: 'ViHost' }, /credentialsId/],
      [{ serverName: 'h', type: 'ViHost' }, /credentialsId/],
      [{ serverName: 'h', credentialsId: UNKNOWN, type: 'ViHost' }, /not found/],
      [{ serverName: 'h', credentialsId: linuxId, type: 'ViHost' }, /needs Standard credentials/],
      [{ serverName: 'h', credentialsId: standardId, type: 'LinuxHost' }, /needs Linux credentials/],
      [{ serverName: 'bad host\r\nX: y', credentialsId: standardId, type: 'ViHost' }, /DNS name or an IP address/],
      [{ serverName: 'h', credentialsId: standardId, type: 'ViHost', port: 70000 }, /port/],
      [{ serverName: 'h', type: 'LinuxHost', credentialsStorageType: 'SingleUse' }, /singleUseCredentials/],
      [{ serverName: 'h', type: 'LinuxHost', credentialsStorageType: 'SingleUse', singleUseCredentials: { username: 'u' } }, /password.*privateKey/],
    ];
    for (const [json, message] of cases) {
      const res = await probe(json, '1.2-rev1');
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.message).toMatch(message);
    }
    const missing = await probe({ serverName: 'h', credentialsId: UNKNOWN, type: 'ViHost' });
    expect(missing.body.resourceId).toBe(UNKNOWN);
  });

  it('is for Administrators only', async () => {
    for (const role of ['Viewer', 'Operator'] as const) {
      await t.server.users.add(`conn-${role}`, role, 'Role-Passw0rd!');
      const { access_token } = await t.api.login(`conn-${role}`, 'Role-Passw0rd!');
      const res = await t.api.post('/api/v1/connectionCertificate', { token: access_token, json: { serverName: '127.0.0.1', credentialsId: standardId, type: 'ViHost' } });
      expect(res.status).toBe(403);
      const batch = await t.api.post('/api/v1/connectionCertificate/batch', { token: access_token, json: { targets: [{ serverName: '127.0.0.1', type: 'ViHost' }] } });
      expect(batch.status).toBe(403);
    }
  });
});

describe('POST /api/v1/connectionCertificate/batch', () => {
  it('probes many targets concurrently under one deadline, each with its result or error, in order', async () => {
    const material = await makeTlsMaterial('ec');
    const tlsPeers = await Promise.all(Array.from({ length: 30 }, () => startTlsPeer(material)));
    peers.push(...tlsPeers);
    const sshPeer = await startSsh2Peer({ hostKeys: [sshKeyPair().private], username: 'u', password: 'p' });
    peers.push(sshPeer);
    const refusedPort = await closedPort();
    const targets = [
      ...tlsPeers.map((p) => ({ serverName: '127.0.0.1', type: 'ViHost', port: p.port })),
      { serverName: '127.0.0.1', type: 'LinuxHost', port: sshPeer.port },
      { serverName: '127.0.0.1', type: 'WindowsHost', port: refusedPort },
    ];
    const res = await t.api.post('/api/v1/connectionCertificate/batch', { token, json: { targets, concurrency: 16, deadlineMs: 5000 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ succeeded: 31, failed: 1 });
    expect(res.body.results.map((r: any) => r.port)).toEqual(targets.map((x) => x.port));
    expect(new Set(res.body.results.slice(0, 30).map((r: any) => r.certificate.thumbprint)).size).toBe(1);
    expect(res.body.results[30]).toMatchObject({ fingerprint: expect.stringMatching(/^SHA256:/), hostKeyAlgorithm: 'ssh-ed25519' });
    expect(Object.keys(res.body.results[30])).not.toContain('certificate');
    expect(Object.keys(res.body.results[30])).not.toContain('error');
    expect(res.body.results[31]).toMatchObject({ error: { kind: 'ConnectionRefused', message: expect.stringMatching(/refused/) } });
    expect(Object.keys(res.body.results[31])).not.toContain('fingerprint');
    const tooMany = await t.api.post('/api/v1/connectionCertificate/batch', { token, json: { targets: Array.from({ length: 501 }, () => targets[0]) } });
    expect(tooMany.status).toBe(400);
  });
});
