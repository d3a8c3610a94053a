import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresUrl } from '../support/postgres.js';

describe.skipIf(!postgresUrl)('two nodes starting at once on an empty PostgreSQL database', () => {
  it('both start, three times out of three, with one administrator between them', async () => {
    for (let round = 0; round < 3; round++) {
      const url = await createTestDatabase();
      const started = await Promise.allSettled([startTestServer({ DATABASE_URL: url }), startTestServer({ DATABASE_URL: url })]);
      const servers = started.filter((s): s is PromiseFulfilledResult<TestServer> => s.status === 'fulfilled').map((s) => s.value);
      try {
        expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started']);
        const users = await servers[0].server.store.db.selectFrom('users').select('name').execute();
        expect(users.map((u) => u.name)).toEqual(['administrator']);
        // Both answer, with the same installation.
        for (const t of servers) expect((await t.api.login('administrator', 'Admin-Passw0rd!')).access_token).toBeTruthy();
        const ids = await Promise.all(servers.map(async (t) => (await t.api.get('/api/v1/serverInfo', { token: await t.adminToken() })).body.vbrId));
        expect(ids[0]).toBe(ids[1]);
      } finally {
        for (const t of servers) await t.cleanup();
      }
    }
  });
});
