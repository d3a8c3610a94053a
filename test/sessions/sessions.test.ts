import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { SessionStopped } from '../../src/sessions/runner.js';

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  // Also no reply property outside Veeam's document (test/support/conformance.ts).
  t.api.strict = true;
  token = await t.adminToken();
});
afterAll(() => t.cleanup());

async function waitUntilStopped(id: string) {
  for (let i = 0; i < 100; i++) {
    const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
    if (res.body.state === 'Stopped') return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('session did not stop');
}

describe('session runner through the API', () => {
  it('runs work, records progress, a result and a log that the API shows newest first', async () => {
    const session = await t.server.runner.start({ name: 'Test Work', type: 'Infrastructure', createdBy: 'administrator' }, async (ctx) => {
      const step = await ctx.log('Checking things', 'None');
      await ctx.progress(50);
      await ctx.updateLog(step, 'Succeeded', 'Checked things');
      await ctx.log('Something odd', 'Warning', 'details here');
      return { result: 'Warning', message: 'Finished with one warning.' };
    });
    expect(session.state).toBe('Working');
    const done = await waitUntilStopped(session.id);
    expect(done).toMatchObject({
      id: session.id,
      name: 'Test Work',
      activityId: session.id,
      sessionType: 'Infrastructure',
      state: 'Stopped',
      progressPercent: 100,
      result: { result: 'Warning', message: 'Finished with one warning.', isCanceled: false },
    });
    expect(done.creationTime).toMatch(/[+-]\d\d:\d\d$/);
    expect(done.endTime).toMatch(/[+-]\d\d:\d\d$/);
    expect(done.usn).toBeGreaterThan(0);
    // 1.1-rev0 spells the activity id `activityId` and has no platform fields.
    for (const field of ['jobId', 'platformName', 'platformId', 'parentSessionId', 'resourceId']) expect(done).not.toHaveProperty(field);
    const logs = await t.api.get(`/api/v1/sessions/${session.id}/logs`, { token });
    expect(logs.status).toBe(200);
    expect(logs.body.totalRecords).toBe(2);
    expect(logs.body.records.map((r: any) => [r.id, r.status, r.title])).toEqual([
      [2, 'Warning', 'Something odd'],
      [1, 'Succeeded', 'Checked things'],
    ]);
    expect(logs.body.records[0].description).toBe('details here');
  });

  it('a session that logged a warning ends Warning even when its work reports nothing else, and Failed stays Failed', async () => {
    const quiet = await t.server.runner.start({ name: 'Quiet Warning', type: 'Infrastructure' }, async (ctx) => {
      await ctx.logMany([{ title: 'Fine' }, { title: 'The folder could not be verified', status: 'Warning' }]);
    });
    expect((await waitUntilStopped(quiet.id)).result).toEqual({ result: 'Warning', message: 'Completed with 1 warning(s); see the session log.', isCanceled: false });
    const worded = await t.server.runner.start({ name: 'Worded Warning', type: 'Infrastructure' }, async (ctx) => {
      const step = await ctx.log('Checking', 'None');
      await ctx.updateLog(step, 'Warning', 'Checked, with a doubt');
      return { result: 'Success', message: 'Repository saved.' };
    });
    expect((await waitUntilStopped(worded.id)).result).toEqual({ result: 'Warning', message: 'Repository saved.', isCanceled: false });
    const failed = await t.server.runner.start({ name: 'Failed Warning', type: 'Infrastructure' }, async (ctx) => {
      await ctx.log('Odd', 'Warning');
      throw new Error('then it broke');
    });
    expect((await waitUntilStopped(failed.id)).result).toEqual({ result: 'Failed', message: 'then it broke', isCanceled: false });
  });

  it('records a thrown error as Failed with its message', async () => {
    const session = await t.server.runner.start({ name: 'Failing Work', type: 'Infrastructure' }, async () => {
      throw new Error('the disk is full');
    });
    const done = await waitUntilStopped(session.id);
    expect(done.result).toEqual({ result: 'Failed', message: 'the disk is full', isCanceled: false });
  });

  it('stops a running session: the work sees its AbortSignal and the session ends canceled', async () => {
    let sawAbort = false;
    const session = await t.server.runner.start({ name: 'Long Work', type: 'Infrastructure' }, async (ctx) => {
      await ctx.log('Waiting for a stop');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 20_000);
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
          clearTimeout(timer);
          reject(ctx.signal.reason as SessionStopped);
        });
      });
    });
    const running = await t.api.get(`/api/v1/sessions/${session.id}`, { token });
    expect(running.body.state).toBe('Working');
    // Absent while Working: Veeam's documents allow no null.
    expect(running.body).not.toHaveProperty('result');
    expect(running.body).not.toHaveProperty('endTime');
    const stop = await t.api.post(`/api/v1/sessions/${session.id}/stop`, { token });
    expect(stop.status).toBe(200);
    expect(stop.body).toEqual({});
    const done = await waitUntilStopped(session.id);
    expect(sawAbort).toBe(true);
    expect(done.result).toEqual({ result: 'Failed', message: 'Stopped by administrator.', isCanceled: true });
    // Stopping a stopped session changes nothing and still answers 200.
    expect((await t.api.post(`/api/v1/sessions/${session.id}/stop`, { token })).status).toBe(200);
  });

  it('lets an Operator stop sessions', async () => {
    await t.server.users.add('operator1', 'Operator', 'Operator-Passw0rd');
    const op = await t.api.login('operator1', 'Operator-Passw0rd');
    const session = await t.server.runner.start(
      { name: 'Operator Stop', type: 'Infrastructure' },
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    expect((await t.api.post(`/api/v1/sessions/${session.id}/stop`, { token: op.access_token })).status).toBe(200);
    expect((await waitUntilStopped(session.id)).result.isCanceled).toBe(true);
  });

  it('404 for logs and stop of an unknown session', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    expect((await t.api.get(`/api/v1/sessions/${id}/logs`, { token })).status).toBe(404);
    expect((await t.api.post(`/api/v1/sessions/${id}/stop`, { token })).status).toBe(404);
  });
});

describe('interrupted sessions', () => {
  it('a session left Working when the process died is Failed ("interrupted") at the next start', async () => {
    const other = await startTestServer();
    const dataDir = other.dataDir;
    const session = await other.server.runner.start({ name: 'Killed Work', type: 'Infrastructure' }, () => new Promise(() => undefined));
    // Simulate a crash: close the database and listener without the graceful path marking the session.
    await other.api.close();
    await other.server.app.close();
    await other.server.store.close();
    const again = await startTestServer({}, dataDir);
    try {
      const token2 = await again.adminToken();
      const res = await again.api.get(`/api/v1/sessions/${session.id}`, { token: token2 });
      expect(res.body.state).toBe('Stopped');
      expect(res.body.result.result).toBe('Failed');
      expect(res.body.result.message).toMatch(/interrupted/);
    } finally {
      await again.cleanup();
      const { rm } = await import('node:fs/promises');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('graceful shutdown', () => {
  it('stops running sessions (their work sees the stop) and records them as canceled', async () => {
    const other = await startTestServer();
    const session = await other.server.runner.start(
      { name: 'Work During Shutdown', type: 'Infrastructure' },
      (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const dataDir = other.dataDir;
    await other.stop();
    const again = await startTestServer({}, dataDir);
    try {
      const res = await again.api.get(`/api/v1/sessions/${session.id}`, { token: await again.adminToken() });
      expect(res.body.state).toBe('Stopped');
      expect(res.body.result).toEqual({ result: 'Failed', message: 'The server is shutting down.', isCanceled: true });
    } finally {
      await again.cleanup();
      const { rm } = await import('node:fs/promises');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
