import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';
import type { ApiClient } from '../support/client.js';

const tokenPath = '/api/oauth2/token';
const BAD_CREDENTIALS = 'Invalid user name or password.';

const attempt = (api: ApiClient, username: string, password: string) => api.post(tokenPath, { form: { grant_type: 'password', username, password } });

/** How many answers came from a password check (a wrong password) rather than from the throttle. */
const checked = (answers: { status: number; body: { message?: string } }[]) => answers.filter((a) => a.body.message === BAD_CREDENTIALS).length;

// Slow-down far away, lockout at 10: only the lockout is under test here.
const THROTTLE = { RAMPART_LOGIN_SLOWDOWN_AFTER: '1000', RAMPART_LOGIN_LOCKOUT_AFTER: '10', RAMPART_LOGIN_LOCKOUT_SECONDS: '600' };

describe('parallel guesses on SQLite', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(THROTTLE);
  });
  afterAll(() => t.cleanup());

  it('checks at most the allowance of 40 parallel wrong passwords, and refuses the right one after the limit', async () => {
    await t.server.users.add('burst', 'Viewer', 'Burst-Passw0rd');
    const answers = await Promise.all(Array.from({ length: 40 }, () => attempt(t.api, 'burst', 'wrong-password')));
    expect(answers.every((a) => a.status === 401)).toBe(true);
    expect(checked(answers)).toBeLessThanOrEqual(10);
    expect(answers.filter((a) => /Too many failed sign-in attempts/.test(a.body.message ?? ''))).toHaveLength(40 - checked(answers));
    const right = await attempt(t.api, 'burst', 'Burst-Passw0rd');
    expect(right.status).toBe(401);
    expect(right.body.message).toMatch(/Too many failed sign-in attempts/);
  });

  it('refuses the right password sent inside a burst once the allowance is used up', async () => {
    await t.server.users.add('burst2', 'Viewer', 'Burst2-Passw0rd');
    const wrong = Array.from({ length: 30 }, () => attempt(t.api, 'burst2', 'wrong-password'));
    // Wait until the server has counted 10 attempts; the password checks of most of them are still running.
    for (let i = 0; i < 3000; i++) {
      const row = await t.server.store.db.selectFrom('login_failures').select('failures').where('key', '=', 'user:burst2').executeTakeFirst();
      if ((row?.failures ?? 0) >= 10) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const right = await attempt(t.api, 'burst2', 'Burst2-Passw0rd');
    const answers = await Promise.all(wrong);
    expect(right.status).toBe(401);
    expect(checked(answers)).toBeLessThanOrEqual(10);
  });
});

describe('per address: delayed, never locked', () => {
  let t: TestServer;
  beforeAll(async () => {
    // Address allowance = 3 × slow-down = 30 failures before attempts from the address are spaced out.
    t = await startTestServer({ ...THROTTLE, RAMPART_LOGIN_SLOWDOWN_AFTER: '10' });
  });
  afterAll(() => t.cleanup());

  it('lets the administrator sign in from an address that just failed 30 times over other names', async () => {
    for (let i = 0; i < 30; i++) expect((await attempt(t.api, `noisy-${i}`, 'wrong-password')).status).toBe(401);
    const admin = await attempt(t.api, 'administrator', ADMIN_PASSWORD);
    expect(admin.status).toBe(200);
  });

  it('spaces out parallel guesses from one address once its allowance is used', async () => {
    const quick = await startTestServer({ ...THROTTLE, RAMPART_LOGIN_SLOWDOWN_AFTER: '1' });
    try {
      const started = Date.now();
      // Allowance 3; attempts 4, 5 and 6 get slots 250, 250+500 and 750+1000 ms out, however parallel they come.
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => attempt(quick.api, `spray-${i}`, 'wrong-password')));
      expect(answers.every((a) => a.status === 401)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_700);
    } finally {
      await quick.cleanup();
    }
  });
});

describe.skipIf(!postgresUrl)('parallel guesses on two nodes sharing PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const url = await createTestDatabase();
    a = await startTestServer({ ...THROTTLE, DATABASE_URL: url });
    b = await startTestServer({ ...THROTTLE, DATABASE_URL: url });
  });
  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
  });

  it('counts attempts on both nodes together: at most the allowance is checked', async () => {
    await a.server.users.add('shared', 'Viewer', 'Shared-Passw0rd');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(i % 2 ? a.api : b.api, 'shared', 'wrong-password')));
    expect(answers.every((x) => x.status === 401)).toBe(true);
    expect(checked(answers)).toBeLessThanOrEqual(10);
    expect((await attempt(b.api, 'shared', 'Shared-Passw0rd')).body.message).toMatch(/Too many failed sign-in attempts/);
    expect((await attempt(a.api, 'shared', 'Shared-Passw0rd')).status).toBe(401);
  });
});
