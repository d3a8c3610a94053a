import { expect } from 'vitest';
import type { ApiClient } from './client.js';
import type { TestServer } from './server.js';

/**
 * Whom the waiters talk to: the in-process test server (its runner says when a session
 * has settled), or any server reached only over HTTP (a child process: polled until done).
 */
export type SessionTarget = { t: TestServer; token: string } | { api: ApiClient; token: string };

export const apiOf = (target: SessionTarget): ApiClient => ('t' in target ? target.t.api : target.api);

/** Polls `probe` every 100 ms until it answers something, and answers that; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waiting for sessions through the API, as a client would: the helpers the job and
 * restore tests share. `current` gives the test file's server and token (set in its beforeAll).
 */
export function sessionWaiters(current: () => SessionTarget) {
  /** The session once it has stopped (its runner settled, then its state read back over HTTP). */
  async function finished(id: string) {
    const target = current();
    const api = apiOf(target);
    if ('t' in target) await target.t.server.runner.settled(id);
    // Settled sessions are read back at once; a separate process's run is waited for (slow on busy cores).
    const deadline = Date.now() + ('t' in target ? 20_000 : 180_000);
    for (;;) {
      const res = await api.get(`/api/v1/sessions/${id}`, { token: target.token });
      if (res.body.state === 'Stopped') return res.body;
      if (Date.now() > deadline) throw new Error(`session ${id} did not stop`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The session's log, one line per record: `status: title description`. */
  async function logText(id: string): Promise<string> {
    const target = current();
    const logs = await apiOf(target).get(`/api/v1/sessions/${id}/logs`, { token: target.token });
    return logs.body.records.map((r: { status: string; title: string; description?: string }) => `${r.status}: ${r.title} ${r.description ?? ''}`).join('\n');
  }

  /**
   * Sends `json` to `url` (in the given API revision), expects a 201 session that ends in
   * Success, and returns the session as the 201 answered it (its id, resourceId, type...).
   */
  async function runSession(method: string, url: string, json: unknown, version?: string) {
    const target = current();
    const res = await apiOf(target).request(method, url, { token: target.token, json, version });
    expect(res.status, res.text).toBe(201);
    const done = await finished(res.body.id);
    expect(done.result.result, await logText(res.body.id)).toBe('Success');
    return res.body;
  }

  /** Posts `json` to `url`, expects a 201 session that ends in Success, and returns its resourceId. */
  async function sessionDone(url: string, json: unknown) {
    return (await runSession('POST', url, json)).resourceId as string;
  }

  return { finished, logText, runSession, sessionDone };
}
