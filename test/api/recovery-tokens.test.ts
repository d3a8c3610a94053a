import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { sessionWaiters } from '../support/sessions.js';
import type { PreparedDisk, Vcsim } from '../support/vcsim.js';
import { startVsphereLab, stopVsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec, NO_GUEST_CREDENTIALS } from '../support/vsphere-specs.js';

/**
 * Agent recovery tokens through the HTTP API, against vcsim: two jobs make two backups;
 * a token for one of them reads that backup's restore point through a published NBD
 * export (bytes compared) and nothing else; expired and deleted tokens are refused and
 * end the exports they opened; the token is never in a GET reply, the log or the data
 * folder (SQLite database file and its WAL included: this test runs on SQLite on purpose).
 */

const MiB = 1024 * 1024;
const run = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let t: TestServer;
let admin: string;
let vcsim: Vcsim;
let disks: PreparedDisk[];
let root: string;
let repositoryId: string;
const issued: string[] = [];
const points: { id: string; backupId: string; disk: PreparedDisk }[] = [];

const { runSession } = sessionWaiters(() => ({ t, token: admin }));

async function backUpVm(disk: PreparedDisk, name: string) {
  const job = await t.api.post('/api/v1/jobs', {
    token: admin,
    json: backupJobSpec(name, disk, repositoryId, { description: 'recovery token test', restorePoints: 7, guestProcessing: NO_GUEST_CREDENTIALS }),
  });
  expect(job.status, job.text).toBe(201);
  await runSession('POST', `/api/v1/jobs/${job.body.id}/start`, { performActiveFull: false });
  const list = await t.api.get('/api/v1/objectRestorePoints?orderColumn=CreationTime&orderAsc=false&limit=1', { token: admin });
  points.push({ id: list.body.data[0].id, backupId: list.body.data[0].backupId, disk });
}

const holder = (token: string) => ({ headers: { authorization: `RecoveryToken ${token}` } });
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

async function createToken(backupIds: string[], version = '1.1-rev0', minutes = 30): Promise<{ id: string; token: string }> {
  const res = await t.api.post('/api/v1/agents/recoveryTokens', { token: admin, version, json: { backupIds, expirationDate: later(minutes) } });
  expect(res.status, res.text).toBe(version === '1.3-rev2' ? 201 : 200);
  expect(res.body.recoveryToken).toMatch(/^rrt_[A-Za-z0-9_-]{43}$/);
  issued.push(res.body.recoveryToken);
  return { id: res.body.id, token: res.body.recoveryToken };
}

async function exportUri(token: string, pointId: string): Promise<string> {
  const res = await t.api.post(`/api/v1/rampart/recovery/restorePoints/${pointId}/nbdExport`, { ...holder(token), json: { ttlMinutes: 10 } });
  expect(res.status, res.text).toBe(201);
  return res.body.disks[0].uri as string;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

beforeAll(async () => {
  // On SQLite even when the suite has PostgreSQL: the test reads the database file for leaked tokens.
  const lab = await startVsphereLab({
    name: 'recovery',
    diskBytes: 4 * MiB,
    vcsim: { cbt: true },
    sqlite: true,
    env: { RAMPART_PROBE_TIMEOUT_MS: '5000' },
    repository: { taskLimitEnabled: true, maxTaskCount: 4 },
  });
  ({ vcsim, disks, root, t, token: admin, repositoryId } = lab);
  await backUpVm(disks[0]!, 'Token source A');
  await backUpVm(disks[1]!, 'Token source B');
  expect(points[0]!.backupId).not.toBe(points[1]!.backupId);
}, 240_000);

afterAll(() => stopVsphereLab({ t, vcsim, root }));

describe('agent recovery tokens', () => {
  it('refuses bad specs with a 400 naming the field', async () => {
    const url = '/api/v1/agents/recoveryTokens';
    const missing = await t.api.post(url, { token: admin, json: { expirationDate: later(5) } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/backupIds/);
    const unknown = await t.api.post(url, { token: admin, json: { backupIds: [points[0]!.backupId, '6d1e0a53-59b4-4a43-9f0e-5d2f1b5a0c11'], expirationDate: later(5) } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/backupIds\[1\]/);
    const past = await t.api.post(url, { token: admin, json: { backupIds: [points[0]!.backupId], expirationDate: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(past.body.message).toMatch(/expirationDate/);
    const list = await t.api.get(url, { token: admin });
    expect(list.body.pagination.total).toBe(0);
  });

  it('reads exactly the listed backup’s restore points with the token and nothing else', async () => {
    const { id, token } = await createToken([points[0]!.backupId]);
    // Shown once: never again in a GET reply, in any revision's shape.
    for (const version of ['1.1-rev0', '1.2-rev1', '1.3-rev2']) {
      const one = await t.api.get(`/api/v1/agents/recoveryTokens/${id}`, { token: admin, version });
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ id, name: 'Recovery token for Token source A', expirationDate: expect.any(String) });
      const list = await t.api.get('/api/v1/agents/recoveryTokens?orderColumn=ExpirationDate', { token: admin, version });
      expect(list.body.data.map((d: any) => d.id)).toEqual([id]);
      expect(list.text).not.toContain(token);
    }

    const listed = await t.api.get('/api/v1/rampart/recovery/restorePoints', holder(token));
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((p: any) => p.id)).toEqual([points[0]!.id]);

    const uri = await exportUri(token, points[0]!.id);
    const copied = path.join(root, 'token-copy.raw');
    await run('nbdcopy', [uri, copied]);
    expect(sha(await readFile(copied))).toBe(sha(points[0]!.disk.content));
    expect((await run('nbdinfo', [uri])).stdout).toMatch(/is_read_only: true/);

    // Another backup's point, an unknown point: refused alike.
    const other = await t.api.post(`/api/v1/rampart/recovery/restorePoints/${points[1]!.id}/nbdExport`, { ...holder(token), json: {} });
    expect(other.status).toBe(403);
    const unknown = await t.api.post('/api/v1/rampart/recovery/restorePoints/7b0b5e1c-0000-4000-8000-000000000000/nbdExport', { ...holder(token), json: {} });
    expect(unknown.status).toBe(403);
    // The token and nothing else: no token, a wrong one, or an administrator's access token are all refused.
    expect((await t.api.get('/api/v1/rampart/recovery/restorePoints')).status).toBe(401);
    expect((await t.api.get('/api/v1/rampart/recovery/restorePoints', holder(`${token.slice(0, -2)}xx`))).status).toBe(401);
    expect((await t.api.get('/api/v1/rampart/recovery/restorePoints', { headers: { authorization: `Bearer ${admin}` } })).status).toBe(401);
  }, 60_000);

  it('1.3-rev2 answers 201 on creation; a token for two backups opens both', async () => {
    const { id, token } = await createToken([points[0]!.backupId, points[1]!.backupId], '1.3-rev2', 90);
    const named = await t.api.get('/api/v1/agents/recoveryTokens?nameFilter=*source A and 1*', { token: admin });
    expect(named.body.data).toEqual([{ id, name: 'Recovery token for Token source A and 1 more', expirationDate: expect.any(String) }]);
    const late = await t.api.get(`/api/v1/agents/recoveryTokens?expirationDateAfter=${encodeURIComponent(later(60))}`, { token: admin });
    expect(late.body.data.map((d: any) => d.id)).toEqual([id]);
    const bad = await t.api.get('/api/v1/agents/recoveryTokens?expirationDateBefore=tomorrow', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/expirationDateBefore/);
    const listed = await t.api.get('/api/v1/rampart/recovery/restorePoints', holder(token));
    expect(listed.body.data.map((p: any) => p.id).sort()).toEqual([points[0]!.id, points[1]!.id].sort());
    const copied = path.join(root, 'token-copy-b.raw');
    await run('nbdcopy', [await exportUri(token, points[1]!.id), copied]);
    expect(sha(await readFile(copied))).toBe(sha(points[1]!.disk.content));
  }, 60_000);

  it('refuses an expired token and ends the exports it opened', async () => {
    const { id, token } = await createToken([points[0]!.backupId]);
    const uri = await exportUri(token, points[0]!.id);
    expect((await run('nbdinfo', [uri])).stdout).toMatch(/is_read_only: true/);
    const edited = await t.api.request('PUT', `/api/v1/agents/recoveryTokens/${id}`, {
      token: admin,
      json: { id, name: 'Expired now', expirationDate: new Date(Date.now() - 1000).toISOString() },
    });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.name).toBe('Expired now');
    expect(edited.body.recoveryToken).toBeUndefined();
    const refused = await t.api.get('/api/v1/rampart/recovery/restorePoints', holder(token));
    expect(refused.status).toBe(401);
    expect(refused.body.errorCode).toBe('ExpiredToken');
    expect(refused.text).not.toContain(token);
    await expect(run('nbdinfo', [uri])).rejects.toThrow();
  }, 60_000);

  it('refuses a deleted token and ends the exports it opened', async () => {
    const { id, token } = await createToken([points[0]!.backupId]);
    const uri = await exportUri(token, points[0]!.id);
    const removed = await t.api.request('DELETE', `/api/v1/agents/recoveryTokens/${id}`, { token: admin });
    expect(removed.status).toBe(204);
    expect((await t.api.get(`/api/v1/agents/recoveryTokens/${id}`, { token: admin })).status).toBe(404);
    const refused = await t.api.post(`/api/v1/rampart/recovery/restorePoints/${points[0]!.id}/nbdExport`, { ...holder(token), json: {} });
    expect(refused.status).toBe(401);
    expect(refused.body.errorCode).toBe('InvalidToken');
    await expect(run('nbdinfo', [uri])).rejects.toThrow();
  }, 60_000);

  it('never writes a token to the log, the database or any file of the data folder', async () => {
    expect(issued.length).toBeGreaterThanOrEqual(4);
    const log = t.logText();
    const rows = JSON.stringify(await t.server.store.db.selectFrom('recovery_tokens').selectAll().execute());
    const files = await filesUnder(t.dataDir);
    const contents = await Promise.all(files.map((f) => readFile(f)));
    // The database file (or its WAL) holds the digest: proof that the scan below reads it.
    const digest = createHash('sha256').update(issued[0]!).digest('hex');
    expect(contents.some((c) => c.includes(digest))).toBe(true);
    for (const token of issued) {
      expect(log).not.toContain(token);
      expect(rows).not.toContain(token);
      // The part after the prefix too, in case something stored it without.
      for (const content of contents) expect(content.includes(token.slice(4))).toBe(false);
    }
    expect(rows).toContain(digest);
  });
});
