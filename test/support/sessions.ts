import { expect } from 'vitest';
import type { TestServer } from './server.js';

/**
 * Waiting for sessions through the API, as a client would: the helpers the job tests
 * share. `current` gives the test file's server and token (set in its beforeAll).
 */
export function sessionWaiters(current: () => { t: TestServer; token: string }) {
  /** The session once it has stopped (its runner settled, then its state read back over HTTP). */
  async function finished(id: string) {
    const { t, token } = current();
    await t.server.runner.settled(id);
    for (let i = 0; i < 400; i++) {
      const res = await t.api.get(`/api/v1/sessions/${id}`, { token });
      if (res.body.state === 'Stopped') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`session ${id} did not stop`);
  }

  /** The session's log, one line per record: `status: title description`. */
  async function logText(id: string): Promise<string> {
    const { t, token } = current();
    const logs = await t.api.get(`/api/v1/sessions/${id}/logs`, { token });
    return logs.body.records.map((r: any) => `${r.status}: ${r.title} ${r.description}`).join('\n');
  }

  /** Posts `json` to `url`, expects a 201 session that ends in Success, and returns its resourceId. */
  async function sessionDone(url: string, json: unknown) {
    const { t, token } = current();
    const res = await t.api.post(url, { token, json });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    return res.body.resourceId as string;
  }

  return { finished, logText, sessionDone };
}
