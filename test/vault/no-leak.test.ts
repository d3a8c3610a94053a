import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePfx, makeSshKeys } from '../api/vault-fixtures.js';

let t: TestServer;
let token: string;
beforeAll(async () => {
  t = await startTestServer({ RAMPART_LOG_LEVEL: 'debug' });
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

/** Every way a secret could sit in a file: as given, base64, hex (for short ones, where a hit is meaningful only if long enough). */
function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out = [secret, bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url').replace(/=+$/, '')];
  if (secret.length <= 64) out.push(bytes.toString('hex'), bytes.toString('hex').toUpperCase());
  return out.filter((f) => f.length >= 8);
}

/** A private key is found by its body lines, whatever line breaks a file keeps. */
function keyMarkers(key: string): string[] {
  return key
    .split(/\r?\n/)
    .filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line))
    .slice(1, 4);
}

describe('secrets never leak', () => {
  it('stores many distinct secrets through the API; none is in the SQLite file, its WAL, the log, a reply or a session log', async () => {
    const keys = await makeSshKeys();
    const pfxPassword = `Pfx-${randomBytes(6).toString('hex')}`;
    const pfx = await makePfx(pfxPassword);
    const secrets: string[] = [];
    const secret = (label: string) => {
      const s = `${label}-${randomBytes(9).toString('base64url')}`;
      secrets.push(s);
      return s;
    };
    const replies: string[] = [];
    const call = async (method: string, url: string, json?: unknown) => {
      const res = await t.api.request(method, url, { token, json });
      replies.push(res.text);
      return res;
    };

    for (let i = 0; i < 40; i++) {
      const created = await call('POST', '/api/v1/credentials', { type: 'Standard', username: `leak-std-${i}`, password: secret('std') });
      expect(created.status).toBe(201);
      if (i % 10 === 0) await call('POST', `/api/v1/credentials/${created.body.id}/changepassword`, { password: secret('changed') });
    }
    for (let i = 0; i < 10; i++) {
      const linux = await call('POST', '/api/v1/credentials', {
        type: 'Linux',
        username: `leak-lx-${i}`,
        password: secret('lx'),
        rootPassword: secret('root'),
        privateKey: keys.opensshEncrypted,
        passphrase: keys.passphrase,
      });
      expect(linux.status).toBe(201);
      await call('POST', `/api/v1/credentials/${linux.body.id}/changerootpassword`, { password: secret('root2') });
    }
    // Short secrets too: the hex form of a short one is a meaningful search.
    for (let i = 0; i < 5; i++) {
      const s = `s${randomBytes(4).toString('hex')}`;
      secrets.push(s);
      await call('POST', '/api/v1/credentials', { type: 'Standard', username: `leak-short-${i}`, password: s });
    }
    secrets.push(keys.passphrase);
    await call('POST', '/api/v1/credentials', { type: 'Linux', username: 'leak-wrong', privateKey: keys.opensshEncrypted, passphrase: secret('wrongpass') });
    await call('POST', '/api/v1/credentials', { type: 'Linux', username: 'leak-putty', privateKey: keys.puttyEncrypted, passphrase: keys.puttyPassphrase });
    for (let i = 0; i < 10; i++) {
      await call('POST', '/api/v1/cloudCredentials', { type: 'Amazon', accessKey: `AKIALEAK${i}`, secretKey: secret('aws') });
      await call('POST', '/api/v1/cloudCredentials', { type: 'AzureStorage', account: `leakstore${i}`, sharedKey: secret('shared') });
      await call('POST', '/api/v1/encryptionPasswords', { password: secret('enc'), hint: `leak hint ${i}` });
    }
    const az = await call('POST', '/api/v1/cloudCredentials', {
      type: 'AzureCompute',
      connectionName: 'leak-azure',
      creationMode: 'ExistingAccount',
      existingAccount: { deployment: { deploymentType: 'MicrosoftAzure' }, subscription: { tenantId: 't', applicationId: 'a', secret: secret('azsecret') } },
    });
    await call('POST', `/api/v1/cloudCredentials/${az.body.id}/changeCertificate`, { certificate: pfx, formatType: 'pfx', password: secret('badpfx') });
    const cert = await call('POST', `/api/v1/cloudCredentials/${az.body.id}/changeCertificate`, { certificate: pfx, formatType: 'pfx', password: pfxPassword });
    expect(cert.status).toBe(201);
    secrets.push(pfxPassword);
    // A rotation writes session logs; they must hold no secret either.
    const rotation = await call('POST', '/api/v1/vault/rotateMasterKey');
    for (let i = 0; i < 200; i++) {
      const s = await call('GET', `/api/v1/sessions/${rotation.body.id}`);
      if (s.body.state === 'Stopped') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await call('GET', `/api/v1/sessions/${rotation.body.id}/logs`);
    await call('GET', '/api/v1/credentials?limit=1000');
    await call('GET', '/api/v1/cloudCredentials?limit=1000');
    await call('GET', '/api/v1/encryptionPasswords?limit=1000');

    const dbFile = path.join(t.dataDir, 'rampart.sqlite');
    const files = [await readFile(dbFile), await readFile(`${dbFile}-wal`).catch(() => Buffer.alloc(0))];
    expect(files[0].length + files[1].length).toBeGreaterThan(100_000);
    const haystacks: [string, Buffer][] = [
      ['database', files[0]],
      ['WAL', files[1]],
      ['log', Buffer.from(t.logText())],
      ['replies', Buffer.from(replies.join('\n'))],
    ];
    const needles = [...secrets.flatMap(forms), ...keyMarkers(keys.opensshEncrypted), ...keyMarkers(keys.puttyEncrypted), pfx.slice(100, 160)];
    expect(needles.length).toBeGreaterThan(300);
    const found: string[] = [];
    for (const [where, hay] of haystacks) {
      for (const needle of needles) if (hay.includes(needle)) found.push(`${where}: ${needle}`);
    }
    expect(found).toEqual([]);
    // The check itself works: the sealed values are there, and a known clear value would be found.
    expect(files[0].includes('rv1.') || files[1].includes('rv1.')).toBe(true);
    expect(files[0].includes('leak-std-1') || files[1].includes('leak-std-1')).toBe(true);
  });
});
