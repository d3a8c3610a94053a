import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRestorePoints, localFolderBackend, openChunkStore } from '../../src/chunkstore/index.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl, requirePostgres } from '../support/postgres.js';
import { addLocalRepository } from '../support/repositories.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, startLocalS3, type LocalS3 } from '../support/s3.js';
import { sessionWaiters } from '../support/sessions.js';

/** Runs `rampart <args>` as its own process against a data folder, password on standard input. */
function cli(dataDir: string, env: Record<string, string>, args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, RAMPART_DATA_DIR: dataDir, RAMPART_LOG_LEVEL: 'warn', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.stdin.end(stdin);
    child.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const ENCRYPTION_PASSWORD = 'Config-Backup-Pass-7';

const kinds: ('SQLite' | 'PostgreSQL')[] = ['SQLite', ...(postgresUrl || requirePostgres ? (['PostgreSQL'] as const) : [])];

describe.each(kinds)('configuration backup on %s', (kind) => {
  let t: TestServer;
  let token: string;
  let s3: LocalS3;
  let root: string;
  let repoFolder: string;
  let repoId: string;
  let passwordId: string;
  let cloudId: string;
  let dbEnv: Record<string, string> = {};

  const { finished, logText } = sessionWaiters(() => ({ t, token }));

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'rampart-cfgbak-'));
    repoFolder = path.join(root, 'repo');
    s3 = await startLocalS3(['configbucket']);
    dbEnv = kind === 'PostgreSQL' ? { DATABASE_URL: await createTestDatabase() } : {};
    // No GC grace: the runs are seconds apart, and the chunks of a removed point must go at once.
    t = await startTestServer({ RAMPART_REPOSITORY_REFRESH_SECONDS: '0', RAMPART_GC_GRACE_SECONDS: '0', ...dbEnv });
    // Also no reply property outside Veeam's document (test/support/conformance.ts).
    t.api.strict = true;
    token = await t.adminToken();
    await t.server.users.add('restorer', 'Administrator', 'Restorer-Passw0rd-1');
    const backupServerId = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
    repoId = await addLocalRepository(
      { t, token },
      backupServerId,
      repoFolder,
      { taskLimitEnabled: false, maxTaskCount: 1 },
      { name: 'Config repo', description: 'configuration backups' },
    );
    const pw = await t.api.post('/api/v1/encryptionPasswords', { token, json: { password: ENCRYPTION_PASSWORD, hint: 'config backup' } });
    passwordId = pw.body.id;
    const cloud = await t.api.post('/api/v1/cloudCredentials', { token, json: { type: 'Amazon', accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY, description: 'local s3' } });
    cloudId = cloud.body.id;
  }, 60_000);
  afterAll(async () => {
    await t?.cleanup();
    await s3?.stop();
    await rm(root, { recursive: true, force: true });
  });

  const settings = (extra: Record<string, unknown> = {}) => ({
    isEnabled: true,
    backupRepositoryId: repoId,
    restorePointsToKeep: 2,
    notifications: { SNMPEnabled: false },
    schedule: { isEnabled: false },
    lastSuccessfulBackup: {},
    encryption: { isEnabled: true, passwordId },
    ...extra,
  });

  it('keeps settings, refusing unknown repositories and passwords', async () => {
    const bad = await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings({ backupRepositoryId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('backupRepositoryId');
    const noPw = await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings({ encryption: { isEnabled: true } }) });
    expect(noPw.status).toBe(400);
    expect(noPw.body.message).toContain('encryption.passwordId');
    const put = await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings({ lastSuccessfulBackup: { sessionId: '3fa85f64-5717-4562-b3fc-2c963f66afa6' } }) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ backupRepositoryId: repoId, restorePointsToKeep: 2, encryption: { isEnabled: true, passwordId }, lastSuccessfulBackup: {} });
    expect((await t.api.get('/api/v1/configBackup', { token, version: '1.3-rev0' })).body).toEqual(put.body);
  });

  it('without encryption, replies carry the required encryption.passwordId as the empty GUID, which a PUT takes back as "none"', async () => {
    const plain = await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings({ encryption: { isEnabled: false } }) });
    expect(plain.status).toBe(200);
    expect(plain.body.encryption).toEqual({ isEnabled: false, passwordId: '00000000-0000-0000-0000-000000000000' });
    // The client checks every reply against Veeam's document (passwordId is required there).
    const got = await t.api.get('/api/v1/configBackup', { token });
    expect(got.body.encryption).toEqual(plain.body.encryption);
    expect((await t.api.request('PUT', '/api/v1/configBackup', { token, json: got.body })).status).toBe(200);
    const enabledWithoutOne = await t.api.request('PUT', '/api/v1/configBackup', {
      token,
      json: { ...got.body, encryption: { isEnabled: true, passwordId: got.body.encryption.passwordId } },
    });
    expect(enabledWithoutOne.status).toBe(400);
    expect(enabledWithoutOne.body.message).toContain('encryption.passwordId');
    expect((await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings() })).status).toBe(200);
  });

  it('backs up into the repository as encrypted restore points, keeps restorePointsToKeep, records the last success', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.api.post('/api/v1/configBackup/backup', { token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ sessionType: 'ConfigurationBackup', name: 'Configuration Backup' });
      const done = await finished(res.body.id);
      expect(done.result.result).toBe('Success');
      ids.push(res.body.id);
    }
    const got = await t.api.get('/api/v1/configBackup', { token });
    expect(got.body.lastSuccessfulBackup).toEqual({ sessionId: ids[2], lastSuccessfulTime: expect.stringMatching(/[+-]\d\d:\d\d$/) });
    const store = await openChunkStore(localFolderBackend(repoFolder));
    const points = await listRestorePoints(store, { within: { backupId: 'rampart-configuration' } });
    expect(points).toHaveLength(2);
    // Without the password nothing but ids, time and the key's fingerprint can be read.
    expect(points.every((p) => p.keyFingerprint && !p.manifest)).toBe(true);
    // The third run removed the first point, and the chunks only it used.
    const third = await logText(ids[2]!);
    expect(third).toContain('Retention: 1 older restore point(s) removed');
    expect(third).toMatch(/Removing unreferenced data: [1-9]\d* chunk\(s\) deleted/);
  });

  it('runs on its schedule once per due time, in either spelling of the days, and stops when the schedule is off', async () => {
    const daily = { isEnabled: true, localTime: '03:30', dailyKind: 'SelectedDays', days: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] };
    const put = await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings({ schedule: { isEnabled: true, daily } }) });
    expect(put.status, put.text).toBe(200);
    // Days are answered in the reader's document's spelling: lower case up to 1.3-rev0, capitalised from 1.3-rev1.
    expect(put.body.schedule.daily.days[0]).toBe('monday');
    expect((await t.api.get('/api/v1/configBackup', { token, version: '1.3-rev1' })).body.schedule.daily.days[0]).toBe('Monday');

    // The server's own ticks run meanwhile on the real clock: the due time is the next real 03:30.
    const now = new Date();
    const due = new Date(now);
    due.setHours(3, 30, 0, 0);
    if (due <= now) due.setDate(due.getDate() + 1);
    expect(await t.server.configBackup.tick(now)).toBeUndefined(); // computes and keeps the next run
    expect(await t.server.configBackup.tick(new Date(due.getTime() - 1000))).toBeUndefined();
    const sessionId = await t.server.configBackup.tick(new Date(due.getTime() + 1000));
    expect(sessionId).toBeDefined();
    const done = await finished(sessionId!);
    expect(done).toMatchObject({ sessionType: 'ConfigurationBackup', result: { result: 'Success' } });
    // The due time was claimed: the same moment does not start a second backup.
    expect(await t.server.configBackup.tick(new Date(due.getTime() + 2000))).toBeUndefined();
    expect((await t.api.get('/api/v1/configBackup', { token })).body.lastSuccessfulBackup.sessionId).toBe(sessionId);

    expect((await t.api.request('PUT', '/api/v1/configBackup', { token, json: settings() })).status).toBe(200);
    expect(await t.server.configBackup.tick(new Date(due.getTime() + 86_400_000 + 1000))).toBeUndefined();
    expect(await t.server.configBackup.tick(new Date(due.getTime() + 2 * 86_400_000 + 1000))).toBeUndefined();
  });

  it('restores a wiped data folder with `rampart config restore`: users sign in, sealed secrets open', async () => {
    const dataDir = t.config.dataDir;
    await t.stop();
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { mode: 0o700 });
    // A new, empty database as well (PostgreSQL keeps its rows outside the data folder).
    if (kind === 'PostgreSQL') dbEnv = { DATABASE_URL: await createTestDatabase() };

    const wrong = await cli(dataDir, dbEnv, ['config', 'restore', '--repository', repoFolder, '--password-stdin'], 'not-the-password\n');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/restore failed/);
    expect(wrong.err).not.toContain('not-the-password');

    const restored = await cli(dataDir, dbEnv, ['config', 'restore', '--repository', repoFolder, '--password-stdin'], `${ENCRYPTION_PASSWORD}\n`);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toMatch(/files: .*master\.key/);
    expect(await readdir(dataDir)).toContain('master.key');

    const again = await cli(dataDir, dbEnv, ['config', 'restore', '--repository', repoFolder, '--password-stdin'], `${ENCRYPTION_PASSWORD}\n`);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds a configuration/);

    t = await startTestServer({ RAMPART_REPOSITORY_REFRESH_SECONDS: '0', ...dbEnv }, dataDir);

    // Also no reply property outside Veeam's document (test/support/conformance.ts).

    t.api.strict = true;
    token = (await t.api.login('restorer', 'Restorer-Passw0rd-1')).access_token;
    expect(token).toBeTruthy();
    expect((await t.api.get('/api/v1/configBackup', { token })).body).toMatchObject({ backupRepositoryId: repoId, encryption: { passwordId } });
    // The cloud browser opens the sealed secret key of the restored cloud credentials record.
    const browse = await t.api.post('/api/v1/cloudBrowser', { token, json: { credentialsId: cloudId, serviceType: 'S3Compatible', servicePoint: s3.endpoint } });
    expect(browse.status, browse.text).toBe(200);
    expect(browse.body.regions[0].buckets.map((b: { name: string }) => b.name)).toEqual(['configbucket']);
  });
});
