import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { opensslFacts, servedCertificatePem } from '../support/tls.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
});
afterAll(() => t.cleanup());

describe('service endpoints', () => {
  it('GET /api/v1/serverTime needs no token and gives RFC 3339 with offset', async () => {
    const res = await t.api.get('/api/v1/serverTime');
    expect(res.status).toBe(200);
    expect(res.body.serverTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    expect(Math.abs(Date.parse(res.body.serverTime) - Date.now())).toBeLessThan(5000);
    expect(res.body.timeZone).toMatch(/^\(UTC[+-]\d\d:\d\d\) /);
  });

  it('GET /api/v1/serverCertificate needs no token and describes the served certificate as openssl does', async () => {
    const res = await t.api.get('/api/v1/serverCertificate');
    expect(res.status).toBe(200);
    const pem = await servedCertificatePem(t.server.port);
    const facts = await opensslFacts(pem);
    const c = res.body;
    // 1.1-rev0's CertificateModel; 1.3 adds isTrusted.
    expect(Object.keys(c).sort()).toEqual(['issuedBy', 'issuedTo', 'keyAlgorithm', 'keySize', 'serialNumber', 'subject', 'thumbprint', 'validBy', 'validFrom']);
    expect((await t.api.get('/api/v1/serverCertificate', { version: '1.3-rev0' })).body.isTrusted).toBe(false);
    expect(c.thumbprint).toBe(facts.sha1.replace(/:/g, ''));
    expect(c.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    // Veeam (.NET) shows the serial's DER bytes; openssl drops a leading 00 sign byte.
    expect(c.serialNumber.replace(/^00/, '')).toBe(facts.serial);
    expect(c.keyAlgorithm).toBe('ECDSA_P256');
    expect(c.keySize).toBe(String(facts.keyBits));
    expect(c.keySize).toBe('256');
    expect(c.subject).toBe(facts.subject);
    expect(c.issuedTo).toBe(facts.subject.replace(/^CN=/, ''));
    expect(c.issuedBy).toBe(facts.issuer.replace(/^CN=/, ''));
    expect(Date.parse(c.validFrom)).toBe(facts.notBefore.getTime());
    expect(Date.parse(c.validBy)).toBe(facts.notAfter.getTime());
    expect(c.validBy).toMatch(/[+-]\d\d:\d\d$/);
    // First start: SANs for localhost, the host name, 127.0.0.1 and ::1.
    expect(facts.sanLine).toContain('DNS:localhost');
    expect(facts.sanLine).toContain('IP Address:127.0.0.1');
    expect(facts.sanLine).toContain('IP Address:0:0:0:0:0:0:0:1');
  });

  it('GET /api/v1/serverInfo describes the installation', async () => {
    const token = await t.adminToken();
    const res = await t.api.get('/api/v1/serverInfo', { token, headers: { 'x-rampart-extras': 'true' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ buildVersion: '12.0.0.1420', patches: [], productName: 'Rampart', certificateExpiresSoon: false });
    // Rampart's own fields only for clients that ask (the console): strict generated clients refuse unknown fields.
    const plain = await t.api.get('/api/v1/serverInfo', { token });
    expect(Object.keys(plain.body).sort()).toEqual(['buildVersion', 'name', 'patches', 'vbrId']);
    // 1.1-rev0's ServerInfoModel has no database fields; 1.2-rev1's requires them.
    expect(res.body).not.toHaveProperty('databaseVendor');
    expect(res.body.vbrId).toMatch(/^[0-9a-f-]{36}$/);
    const newer = await t.api.get('/api/v1/serverInfo', { token, version: '1.2-rev1' });
    expect(newer.body.buildVersion).toBe('12.3.1.1139');
    expect(newer.body.databaseVendor).toBe('SQLite');
    expect(newer.body).not.toHaveProperty('veeamRegistration');
    expect(newer.body.vbrId).toBe(res.body.vbrId);
  });

  it('reuses the certificate and installation id on the next start', async () => {
    const before = (await t.api.get('/api/v1/serverCertificate')).body.thumbprint;
    const id = (await t.api.get('/api/v1/serverInfo', { token: await t.adminToken() })).body.vbrId;
    await t.stop();
    const again = await startTestServer({}, t.dataDir);
    try {
      expect((await again.api.get('/api/v1/serverCertificate')).body.thumbprint).toBe(before);
      expect((await again.api.get('/api/v1/serverInfo', { token: await again.adminToken() })).body.vbrId).toBe(id);
    } finally {
      await again.stop();
    }
  });
});
