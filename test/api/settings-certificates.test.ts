import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Blob } from 'node:buffer';
import { FormData } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { opensslFacts, run, servedCertificatePem } from '../support/tls.js';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';

let t: TestServer;
let admin: string;
let viewer: string;
let operator: string;
let work: string;
const V = { version: '1.0-rev0' };

beforeAll(async () => {
  t = await startTestServer();
  admin = await t.adminToken();
  await t.server.users.add('viewer', 'Viewer', 'Viewer-Passw0rd');
  await t.server.users.add('operator', 'Operator', 'Operator-Passw0rd');
  viewer = (await t.api.login('viewer', 'Viewer-Passw0rd')).access_token;
  operator = (await t.api.login('operator', 'Operator-Passw0rd')).access_token;
  work = await mkdtemp(path.join(tmpdir(), 'rampart-certs-'));
});
afterAll(async () => {
  await t.cleanup();
  await rm(work, { recursive: true, force: true });
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
const documentedForm = (d: Date) => `${d.toISOString().slice(0, 10)}T00:00:00`;
const served = async () => (await opensslFacts(await servedCertificatePem(t.server.port))).sha1.replace(/:/g, '');
const regenerate = (body: unknown, token = admin) => t.api.post('/api/v1/settings/certificates/regenerate', { ...V, token, json: body });

function upload(parts: Record<string, Buffer | string>, token = admin, undocumented?: string) {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value], { type: 'application/x-pkcs12' }) as any, `${name}.pfx`);
  }
  return t.api.postForm('/api/v1/settings/certificates/upload', form, { token, undocumented });
}

/** A certificate and key made by openssl itself, the way administrators make them. */
async function opensslPair(name: string, keyArgs: string[]) {
  const key = path.join(work, `${name}.key`);
  const crt = path.join(work, `${name}.crt`);
  await run('openssl', ['req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', key, '-out', crt, '-days', '30', '-subj', `/CN=${name}.example`]);
  return { key, crt };
}

async function pfx(name: string, pair: { key: string; crt: string }, password: string, extra: string[] = []) {
  const out = path.join(work, `${name}.pfx`);
  await run('openssl', ['pkcs12', '-export', '-inkey', pair.key, '-in', pair.crt, '-out', out, '-passout', `pass:${password}`, ...extra]);
  return readFile(out);
}

describe('GET /api/v1/settings/certificates', () => {
  it('lists the serving certificate with every documented field', async () => {
    const res = await t.api.get('/api/v1/settings/certificates', { ...V, token: viewer });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    const c = res.body.data[0];
    expect(Object.keys(c).sort()).toEqual([
      'automaticallyGenerated',
      'issuedBy',
      'issuedTo',
      'keyAlgorithm',
      'keySize',
      'serialNumber',
      'subject',
      'thumbprint',
      'validBy',
      'validFrom',
    ]);
    expect(c.automaticallyGenerated).toBe(true);
    expect(c.thumbprint).toBe(await served());
  });

  it('details give every fingerprint form as openssl computes them, the names, key and validity', async () => {
    const facts = await opensslFacts(await servedCertificatePem(t.server.port));
    const d = (await t.api.get('/api/v1/settings/certificates/details', { ...V, token: viewer })).body;
    expect(d.sha1Fingerprint).toBe(facts.sha1);
    expect(d.thumbprint).toBe(facts.sha1.replace(/:/g, ''));
    expect(d.sha256Fingerprint).toBe(facts.sha256);
    expect(d.sha256Hex).toBe(facts.sha256.replace(/:/g, '').toLowerCase());
    expect(Buffer.from(d.sha256Base64, 'base64').toString('hex')).toBe(d.sha256Hex);
    expect(d.serialNumber.replace(/^00/, '')).toBe(facts.serial);
    expect(d.subject).toBe(facts.subject);
    expect(d.issuer).toBe(facts.issuer);
    expect(d.keyType).toBe('EC');
    expect(d.keyBits).toBe(facts.keyBits);
    expect(Date.parse(d.validFrom)).toBe(facts.notBefore.getTime());
    expect(Date.parse(d.validBy)).toBe(facts.notAfter.getTime());
    for (const name of d.subjectAlternativeNames.dnsNames) expect(facts.sanLine).toContain(`DNS:${name}`);
    expect(d.subjectAlternativeNames.ipAddresses).toEqual(['127.0.0.1', '::1']);
    expect(d.expiresSoon).toBe(false);
    expect(d.daysUntilExpiry).toBeGreaterThan(3000);
  });

  it('needs the Backup for AWS version header', async () => {
    // 1.0-rev1 is a Backup & Replication revision, not a Backup for AWS one.
    const res = await t.api.get('/api/v1/settings/certificates', { version: '1.0-rev1', token: viewer });
    expect(res.status).toBe(400);
    expect(res.body.title).toBe('Bad Request');
    expect(res.body.details).toMatch(/v1\.0-rev0/);
  });
});

describe('regenerate', () => {
  it('answers 202 and serves the new certificate at once, without dropping an open connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const get = () =>
      new Promise<{ status: number; reused: boolean; peer: string }>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port: t.server.port, path: '/api/v1/serverTime', headers: { 'x-api-version': '1.1-rev0' }, agent }, (res) => {
          const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint.replace(/:/g, '');
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket, peer }));
        });
        req.on('error', reject);
      });
    const before = await get();
    const oldThumbprint = await served();
    expect(before.peer).toBe(oldThumbprint);

    const validBy = inDays(400);
    const res = await regenerate({ validBy: documentedForm(validBy) });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');

    const newThumbprint = await served();
    expect(newThumbprint).not.toBe(oldThumbprint);
    // The connection opened before the swap keeps working, on its old certificate.
    const after = await get();
    expect(after).toEqual({ status: 200, reused: true, peer: oldThumbprint });
    agent.destroy();

    const model = (await t.api.get('/api/v1/serverCertificate')).body;
    expect(model.thumbprint).toBe(newThumbprint);
    expect(model.validBy.slice(0, 10)).toBe(validBy.toISOString().slice(0, 10));
    const details = (await t.api.get('/api/v1/settings/certificates/details', { ...V, token: viewer })).body;
    expect(details.previousCertificates[0].thumbprint).toBe(oldThumbprint);

    // The change ran as a session whose log says who asked, and the old and new thumbprints.
    const sessions = await t.api.get('/api/v1/sessions?nameFilter=Certificate Regeneration', { token: admin });
    const session = sessions.body.data[0];
    expect(session.result.result).toBe('Success');
    const log = (await t.api.get(`/api/v1/sessions/${session.id}/logs`, { token: admin })).body.records.map((r: any) => r.title).join('\n');
    expect(log).toContain('Requested by administrator');
    expect(log).toContain(oldThumbprint);
    expect(log).toContain(newThumbprint);
  });

  it('accepts RFC 3339 with nanoseconds (the Go SDK), key algorithms, a common name and SANs', async () => {
    const validBy = inDays(100);
    const res = await regenerate({
      validBy: validBy
        .toISOString()
        .replace('Z', '123456Z')
        .replace(/\.(\d{3})/, '.$1'),
      keyAlgorithm: 'RSA-2048',
      commonName: 'backup.example.test',
      subjectAlternativeNames: ['backup.example.test', '*.backup.example.test', '10.1.2.3', '2001:db8::7', 'DNS:alias.example.test'],
    });
    expect(res.status).toBe(202);
    const facts = await opensslFacts(await servedCertificatePem(t.server.port));
    expect(facts.subject).toBe('CN=backup.example.test');
    expect(facts.keyBits).toBe(2048);
    expect(facts.text).toContain('rsaEncryption');
    for (const name of ['DNS:backup.example.test', 'DNS:*.backup.example.test', 'IP Address:10.1.2.3', 'IP Address:2001:DB8:0:0:0:0:0:7', 'DNS:alias.example.test']) {
      expect(facts.sanLine).toContain(name);
    }
    const list = (await t.api.get('/api/v1/settings/certificates', { ...V, token: admin })).body.data[0];
    expect(list).toMatchObject({ keyAlgorithm: 'RSA-PKCS1-KeyEx', keySize: '2048', issuedTo: 'backup.example.test', automaticallyGenerated: true });
    expect(Math.abs(Date.parse(list.validBy) - Math.floor(validBy.getTime() / 1000) * 1000)).toBeLessThan(1000);
  });

  it('refuses bad input with a 400 that says which, and keeps serving the old certificate', async () => {
    const current = await served();
    const cases: [unknown, RegExp][] = [
      [{}, /validBy is required/],
      [{ validBy: 'next tuesday' }, /cannot be read as a date/],
      [{ validBy: '2030-02-31T00:00:00' }, /cannot be read as a date/],
      [{ validBy: documentedForm(inDays(-3)) }, /in the past/],
      [{ validBy: new Date(Date.now() + 3600_000).toISOString() }, /less than one day/],
      [{ validBy: documentedForm(inDays(365 * 101)) }, /more than 100 years/],
      [{ validBy: documentedForm(inDays(30)), keyAlgorithm: 'DSA-1024' }, /keyAlgorithm.*ECDSA-P256/],
      [{ validBy: documentedForm(inDays(30)), subjectAlternativeNames: ['not a name!'] }, /neither a DNS name nor an IP address/],
      [{ validBy: documentedForm(inDays(30)), subjectAlternativeNames: { host: 1 } }, /subjectAlternativeNames/],
      [{ validBy: documentedForm(inDays(30)), commonName: '' }, /commonName/],
      [{ validBy: documentedForm(inDays(30)), color: 'blue' }, /unknown field "color"/],
      [{ validBy: 20300101 }, /validBy/],
    ];
    for (const [body, message] of cases) {
      const res = await regenerate(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errorCode).toBe('UnexpectedContent');
      expect(res.body.details, JSON.stringify(body)).toMatch(message);
    }
    expect(await served()).toBe(current);
  });

  it('is for administrators only', async () => {
    const body = { validBy: documentedForm(inDays(30)) };
    expect((await regenerate(body, viewer)).status).toBe(403);
    expect((await regenerate(body, operator)).status).toBe(403);
    expect((await t.api.post('/api/v1/settings/certificates/regenerate', { ...V, json: body })).status).toBe(401);
  });
});

describe('upload', () => {
  it('installs PKCS#12 files as openssl writes them (default and -legacy; RSA and EC)', async () => {
    const rsa = await opensslPair('rsa-upload', ['rsa:2048']);
    const ec = await opensslPair('ec-upload', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384']);
    for (const [pair, extra, name] of [
      [rsa, [], 'rsa-default'],
      [rsa, ['-legacy'], 'rsa-legacy'],
      [ec, [], 'ec-default'],
      [ec, ['-legacy'], 'ec-legacy'],
    ] as const) {
      const file = await pfx(name, pair, 'S3cret pass', [...extra]);
      const res = await upload({ certificateFile: file, certificatePassword: 'S3cret pass' });
      expect(res.status, name).toBe(202);
      const expected = (await opensslFacts(await readFile(pair.crt, 'utf8'))).sha1.replace(/:/g, '');
      expect(await served(), name).toBe(expected);
      const listed = (await t.api.get('/api/v1/settings/certificates', { ...V, token: admin })).body.data[0];
      expect(listed.automaticallyGenerated).toBe(false);
      expect(listed.thumbprint).toBe(expected);
    }
  });

  it('installs a PEM chain and key, in one file or two', async () => {
    const pair = await opensslPair('pem-upload', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const crt = await readFile(pair.crt);
    const key = await readFile(pair.key);
    expect((await upload({ certificateFile: Buffer.concat([crt, key]), certificatePassword: '' })).status).toBe(202);
    const expected = (await opensslFacts(crt.toString())).sha1.replace(/:/g, '');
    expect(await served()).toBe(expected);
    await regenerate({ validBy: documentedForm(inDays(30)) });
    expect((await upload({ certificateFile: crt, privateKeyFile: key, certificatePassword: '' })).status).toBe(202);
    expect(await served()).toBe(expected);
  });

  it('refuses bad files with a 400 that says which, and keeps serving the old certificate', async () => {
    await regenerate({ validBy: documentedForm(inDays(30)) });
    const current = await served();
    const pair = await opensslPair('bad-upload', ['rsa:2048']);
    const other = await opensslPair('other-upload', ['rsa:2048']);
    const good = await pfx('good', pair, 'right-password');
    const certOnly = path.join(work, 'cert-only.pfx');
    await run('openssl', ['pkcs12', '-export', '-nokeys', '-in', pair.crt, '-out', certOnly, '-passout', 'pass:pw']);
    const expired = await generateSelfSignedCertificate({ commonName: 'old', dnsNames: ['old'], ipAddresses: [], validFrom: inDays(-20), validBy: inDays(-10) });
    const future = await generateSelfSignedCertificate({ commonName: 'future', dnsNames: ['future'], ipAddresses: [], validFrom: inDays(10), validBy: inDays(20) });
    const cases: [Record<string, Buffer | string>, RegExp][] = [
      [{ certificateFile: good, certificatePassword: 'wrong-password' }, /password is wrong/],
      [{ certificateFile: Buffer.from('just some bytes, not a certificate'), certificatePassword: 'x' }, /not a PKCS#12/],
      [{ certificateFile: await readFile(certOnly), certificatePassword: 'pw' }, /no private key/],
      [{ certificateFile: Buffer.concat([await readFile(pair.crt), await readFile(other.key)]), certificatePassword: '' }, /does not belong to the certificate/],
      [{ certificateFile: Buffer.from(expired.certificatePem + expired.privateKeyPem), certificatePassword: '' }, /expired/],
      [{ certificateFile: Buffer.from(future.certificatePem + future.privateKeyPem), certificatePassword: '' }, /not valid before/],
      [{ certificatePassword: 'x' }, /"certificateFile" is missing/],
      [{ certificateFile: good }, /"certificatePassword" is missing/],
    ];
    for (const [parts, message] of cases) {
      const res = await upload(parts);
      expect(res.status, String(message)).toBe(400);
      expect(res.body.details, String(message)).toMatch(message);
      expect(res.text).not.toContain('right-password');
    }
    const notMultipart = await t.api.post('/api/v1/settings/certificates/upload', { ...V, token: admin, json: { certificateFile: 'x' } });
    expect(notMultipart.status).toBe(400);
    expect(await served()).toBe(current);
  });

  it('refuses a file over 1 MiB with 413', async () => {
    const res = await upload({ certificateFile: Buffer.alloc(1024 * 1024 + 10, 1), certificatePassword: 'x' }, admin, "Veeam's Backup for AWS document lists no 413");
    expect(res.status).toBe(413);
  });

  it('is for administrators only', async () => {
    expect((await upload({ certificateFile: Buffer.from('x'), certificatePassword: 'x' }, viewer)).status).toBe(403);
    expect((await upload({ certificateFile: Buffer.from('x'), certificatePassword: 'x' }, operator)).status).toBe(403);
  });
});

describe('persistence and the command line', () => {
  it('serves the same certificate after a restart', async () => {
    await regenerate({ validBy: documentedForm(inDays(60)), commonName: 'restart.example' });
    const before = await served();
    await t.stop();
    t = await startTestServer({}, t.dataDir);
    admin = await t.adminToken();
    expect(await served()).toBe(before);
    expect((await t.api.get('/api/v1/settings/certificates', { ...V, token: admin })).body.data[0].automaticallyGenerated).toBe(true);
  });

  it('`rampart cert regenerate` from another process is served by the running server within a second', async () => {
    const before = await served();
    const env = { ...process.env, RAMPART_DATA_DIR: t.dataDir };
    const { stdout } = await run(
      'npx',
      ['tsx', 'src/main.ts', 'cert', 'regenerate', '--valid-by', documentedForm(inDays(90)).slice(0, 10), '--key', 'ECDSA-P384', '--san', 'cli.example'],
      { env },
    );
    const thumbprint = /thumbprint \(SHA-1\)\s+([0-9A-F]{40})/.exec(stdout)![1];
    expect(thumbprint).not.toBe(before);
    let now = before;
    for (let i = 0; i < 20 && now !== thumbprint; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await served();
    }
    expect(now).toBe(thumbprint);
    const show = await run('npx', ['tsx', 'src/main.ts', 'cert', 'show'], { env });
    expect(show.stdout).toContain(thumbprint);
    expect(show.stdout).toContain('EC 384 bits');
  });

  it('warns when the certificate is close to expiry (log, serverInfo, details)', async () => {
    await t.stop();
    t = await startTestServer({ RAMPART_CERT_EXPIRY_WARNING_DAYS: '365' }, t.dataDir);
    admin = await t.adminToken();
    expect((await t.api.get('/api/v1/serverInfo', { token: admin, headers: { 'x-rampart-extras': 'true' } })).body.certificateExpiresSoon).toBe(true);
    const details = (await t.api.get('/api/v1/settings/certificates/details', { ...V, token: admin })).body;
    expect(details.expiresSoon).toBe(true);
    expect(details.expiryWarningDays).toBe(365);
    expect(t.logText()).toMatch(/the server certificate expires soon/);
  });
});

describe('atomic writes', () => {
  it('a process killed while writing leaves a valid pair in the data folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rampart-kill-'));
    const script = path.join(dir, 'writer.mts');
    await writeFile(
      script,
      `import { writePairAtomically } from '${path.resolve('src/pki/pair-file.ts')}';
import { generateSelfSignedCertificate } from '${path.resolve('src/pki/generate.ts')}';
const dir = process.argv[2]!;
const pairs = await Promise.all(Array.from({ length: 4 }, (_, i) => generateSelfSignedCertificate({ commonName: 'k' + i, dnsNames: [], ipAddresses: [], validBy: new Date(Date.now() + 864e5 * 30) })));
process.stdout.write('ready\\n');
for (let i = 0; ; i++) await writePairAtomically(dir, pairs[i % 4]!);
`,
    );
    const { spawn } = await import('node:child_process');
    const { readPair } = await import('../../src/pki/pair-file.js');
    const { checkServingPair } = await import('../../src/pki/validate.js');
    // A pair is already there before the first kill, as on any server past its first start.
    const { writePairAtomically } = await import('../../src/pki/pair-file.js');
    await writePairAtomically(dir, await generateSelfSignedCertificate({ commonName: 'first', dnsNames: [], ipAddresses: [], validBy: inDays(30) }));
    for (let round = 0; round < 5; round++) {
      // One process (node with tsx's loader), so SIGKILL really kills the writer mid-write.
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 50 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const pair = await readPair(dir);
      expect(pair).not.toBeNull();
      expect(() => checkServingPair(pair!)).not.toThrow();
    }
    await rm(dir, { recursive: true, force: true });
  });
});
