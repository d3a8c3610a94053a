import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { rotateMasterKey } from '../../src/vault/rotation.js';
import { VaultError } from '../../src/vault/errors.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

async function waitForSession(t: TestServer, token: string, id: string) {
  for (let i = 0; i < 400; i++) {
    const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
    if (res.body.state === 'Stopped') return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('rotation session did not stop');
}

/** Adds `count` Standard records with distinct passwords; returns id → password. */
async function seed(t: TestServer, token: string, prefix: string, count: number): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const password = `${prefix}-pw-${i + j}`;
        const res = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: `${prefix}-${i + j}`, password } });
        if (res.status !== 201) throw new Error(`seed failed: ${res.status} ${res.text}`);
        expected.set(res.body.id, password);
      }),
    );
  }
  return expected;
}

async function expectAllOpen(t: TestServer, expected: Map<string, string>) {
  for (const [id, password] of expected) expect((await t.server.vault.credentials.secretsFor(id)).password).toBe(password);
}

describe('master key rotation through the API while requests run', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer();
    token = await t.adminToken();
  });
  afterAll(() => t.cleanup());

  it('re-seals every secret under a new key; concurrent adds and reads all succeed; every secret opens after', async () => {
    const expected = await seed(t, token, 'before', 600);
    const encryption = await t.api.post('/api/v1/encryptionPasswords', { token, json: { password: 'Enc-During-Rotation', hint: 'rotation' } });
    const before = (await t.api.get('/api/v1/vault', { token })).body;
    // 1.2-rev1: the first document with a BackgroundOperation session type (1.1-rev0 clients see Infrastructure).
    const started = await t.api.post('/api/v1/vault/rotateMasterKey', { token, version: '1.2-rev1' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ name: 'Master Key Rotation', sessionType: 'BackgroundOperation', state: 'Working' });
    expect((await t.api.post('/api/v1/vault/rotateMasterKey', { token })).status).toBe(400);

    let stopped = false;
    const failures: string[] = [];
    let during = 0;
    const load = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; !stopped; i++) {
        const password = `during-${worker}-${i}`;
        const res = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: `during-${worker}-${i}`, password } });
        if (res.status !== 201) failures.push(`add ${res.status} ${res.text}`);
        else expected.set(res.body.id, password);
        const list = await t.api.get(`/api/v1/credentials?limit=50&skip=${i * 7}`, { token });
        if (list.status !== 200) failures.push(`list ${list.status}`);
        during++;
      }
    });
    const done = await waitForSession(t, token, started.body.id);
    stopped = true;
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(during).toBeGreaterThan(10);
    expect(done.result).toMatchObject({ result: 'Success' });
    expect(done.progressPercent).toBe(100);
    const logs = await t.api.get(`/api/v1/sessions/${started.body.id}/logs`, { token });
    const titles = logs.body.records.map((r: any) => r.title).join('\n');
    expect(titles).toMatch(/Re-sealed \d+ secret\(s\)/);
    expect(titles).toContain(`Retired master key(s) ${before.currentMasterKeyId}`);

    const after = (await t.api.get('/api/v1/vault', { token })).body;
    expect(after.currentMasterKeyId).not.toBe(before.currentMasterKeyId);
    expect(after.masterKeyIds).toEqual([after.currentMasterKeyId]);
    expect(after.sealedValues).toEqual([{ masterKeyId: after.currentMasterKeyId, count: expected.size + 1 }]);
    const keyFile = JSON.parse(await readFile(path.join(t.dataDir, 'master.key'), 'utf8'));
    expect(keyFile.keys.map((k: any) => k.id)).toEqual([after.currentMasterKeyId]);
    await expectAllOpen(t, expected);
    expect(await t.server.vault.encryptionPasswords.passwordFor(encryption.body.id)).toBe('Enc-During-Rotation');
    expect(await t.server.vault.encryptionPasswords.verify(encryption.body.id, 'Enc-During-Rotation')).toBe(true);
  });

  it('a sealed value moved to another row does not open; rotation leaves it and keeps its key', async () => {
    const a = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'moved-from', password: 'Moved-Secret-A' } });
    const b = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'moved-to', password: 'Moved-Secret-B' } });
    const db = t.server.store.db;
    const source = await db.selectFrom('vault_secrets').select('sealed_value').where('owner_id', '=', a.body.id).executeTakeFirstOrThrow();
    await db.updateTable('vault_secrets').set({ sealed_value: source.sealed_value }).where('owner_id', '=', b.body.id).execute();
    const error = await t.server.vault.credentials.secretsFor(b.body.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).reason).toBe('DoesNotOpen');
    expect((error as VaultError).message).not.toContain('Moved-Secret');
    const started = await t.api.post('/api/v1/vault/rotateMasterKey', { token });
    const done = await waitForSession(t, token, started.body.id);
    expect(done.result.result).toBe('Warning');
    expect(done.result.message).toMatch(/1 did not open/);
    const logs = (await t.api.get(`/api/v1/sessions/${started.body.id}/logs`, { token })).text;
    expect(logs).toContain(b.body.id);
    expect(logs).not.toContain('Moved-Secret');
    expect((await t.server.vault.credentials.secretsFor(a.body.id)).password).toBe('Moved-Secret-A');
    // Repair as an administrator would: enter the secret again.
    expect((await t.api.post(`/api/v1/credentials/${b.body.id}/changepassword`, { token, json: { password: 'Moved-Secret-B2' } })).status).toBe(200);
    expect((await t.server.vault.credentials.secretsFor(b.body.id)).password).toBe('Moved-Secret-B2');
  });

  it('only an Administrator may rotate or see the vault status', async () => {
    await t.server.users.add('rot-operator', 'Operator', 'Operator-Passw0rd');
    const operator = (await t.api.login('rot-operator', 'Operator-Passw0rd')).access_token;
    expect((await t.api.post('/api/v1/vault/rotateMasterKey', { token: operator })).status).toBe(403);
    expect((await t.api.get('/api/v1/vault', { token: operator })).status).toBe(403);
  });
});

describe('an interrupted rotation', () => {
  it('leaves every secret readable, across a restart; running it again finishes and retires the old keys', async () => {
    const first = await startTestServer();
    const dataDir = first.dataDir;
    try {
      const token = await first.adminToken();
      const expected = await seed(first, token, 'half', 120);
      const oldKey = first.server.vault.keyring.currentKeyId;
      const controller = new AbortController();
      const interrupted = rotateMasterKey(first.server.store, first.server.vault.keyring, dataDir, {
        batchSize: 10,
        signal: controller.signal,
        afterBatch: (done) => {
          if (done >= 50) controller.abort(new Error('power cut'));
        },
      });
      await expect(interrupted).rejects.toThrow('power cut');
      const byKey = (await first.api.get('/api/v1/vault', { token })).body.sealedValues;
      expect(byKey).toHaveLength(2);
      expect(byKey.find((k: any) => k.masterKeyId === oldKey).count).toBe(70);
      await first.stop();

      const second = await startTestServer({}, dataDir);
      try {
        expect(second.logText()).toMatch(/sealed under a previous master key/);
        await expectAllOpen(second, expected);
        const token2 = await second.adminToken();
        const started = await second.api.post('/api/v1/vault/rotateMasterKey', { token: token2 });
        const done = await waitForSession(second, token2, started.body.id);
        expect(done.result.result).toBe('Success');
        const status = (await second.api.get('/api/v1/vault', { token: token2 })).body;
        expect(status.masterKeyIds).toEqual([status.currentMasterKeyId]);
        expect(status.masterKeyIds).not.toContain(oldKey);
        await expectAllOpen(second, expected);
      } finally {
        await second.cleanup();
      }
    } finally {
      await first.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('rotate-master-key on the command line while the server runs', () => {
  it('re-seals everything; the running server opens every secret and seals new ones under the new key', async () => {
    const t = await startTestServer();
    try {
      const token = await t.adminToken();
      const expected = await seed(t, token, 'cli', 60);
      const oldKey = t.server.vault.keyring.currentKeyId;
      const { stdout } = await run(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'src/main.ts'), 'rotate-master-key'], {
        cwd: root,
        env: { ...process.env, RAMPART_DATA_DIR: t.dataDir, RAMPART_LOG_LEVEL: 'silent' },
      });
      expect(stdout).toMatch(/re-sealed 60 secret\(s\)/);
      expect(stdout).toContain(`retired master key(s): ${oldKey}`);
      const newKey = JSON.parse(await readFile(path.join(t.dataDir, 'master.key'), 'utf8')).current;
      await expectAllOpen(t, expected);
      await new Promise((r) => setTimeout(r, 600));
      const added = await t.api.post('/api/v1/credentials', { token, json: { type: 'Standard', username: 'after-cli', password: 'After-Cli-Secret' } });
      const row = await t.server.store.db.selectFrom('vault_secrets').select('master_key_id').where('owner_id', '=', added.body.id).executeTakeFirstOrThrow();
      expect(row.master_key_id).toBe(newKey);
      expect((await t.server.vault.credentials.secretsFor(added.body.id)).password).toBe('After-Cli-Secret');
    } finally {
      await t.cleanup();
    }
  });
});
