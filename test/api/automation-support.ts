import type { TestServer } from '../support/server.js';

export const V = '1.1-rev0';

/** Waits for an automation session to end and returns it with its log (oldest first). */
export async function finished(t: TestServer, token: string, id: string) {
  await t.server.runner.settled(id);
  for (let i = 0; i < 200; i++) {
    const s = await t.api.get(`/api/v1/automation/sessions/${id}`, { token });
    if (s.body.state === 'Stopped') {
      const logs = await t.api.get(`/api/v1/automation/sessions/${id}/logs`, { token });
      return { session: s.body, log: [...logs.body.records].reverse() as { status: string; title: string; description: string }[] };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`session ${id} did not finish`);
}

export async function importInto(t: TestServer, token: string, kind: string, collection: unknown, query = '', headers: Record<string, string> = {}) {
  const res = await t.api.post(`/api/v1/automation/${kind}/import${query}`, { token, json: collection, headers });
  if (res.status !== 201) throw new Error(`import ${kind}: ${res.status} ${res.text}`);
  return finished(t, token, res.body.id);
}

export async function exportFrom(t: TestServer, token: string, kind: string, filter: unknown = {}, query = '', headers: Record<string, string> = {}) {
  const res = await t.api.post(`/api/v1/automation/${kind}/export${query}`, { token, json: filter, headers });
  if (res.status !== 200) throw new Error(`export ${kind}: ${res.status} ${res.text}`);
  return res.body;
}
