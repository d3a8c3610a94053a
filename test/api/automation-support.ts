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

export const SERVERS = '/api/v1/backupInfrastructure/managedServers';
export const REPOS = '/api/v1/backupInfrastructure/repositories';
export const PROXIES = '/api/v1/backupInfrastructure/proxies';

/** A route that answers 201 + SessionModel (add/edit of a server, repository or proxy), waited for; its log oldest first. */
export async function infrastructureSession(t: TestServer, token: string, url: string, json: unknown, method = 'POST') {
  const res = await t.api.request(method, url, { token, json });
  if (res.status !== 201) throw new Error(`${method} ${url}: ${res.status} ${res.text}`);
  await t.server.runner.settled(res.body.id);
  const session = (await t.api.get(`/api/v1/sessions/${res.body.id}`, { token })).body;
  const logs = await t.api.get(`/api/v1/sessions/${res.body.id}/logs`, { token });
  const log = [...logs.body.records].reverse() as { status: string; title: string; description: string }[];
  return { session, log, resourceId: res.body.resourceId as string };
}

/**
 * Like infrastructureSession, but the session must end Success, or Warning when its log
 * has Warning records (e.g. a Windows folder Rampart cannot verify); returns the new object's id.
 */
export async function added(t: TestServer, token: string, url: string, json: unknown): Promise<string> {
  const { session, log, resourceId } = await infrastructureSession(t, token, url, json);
  const expected = log.some((r) => r.status === 'Warning') ? 'Warning' : 'Success';
  if (session.result.result !== expected)
    throw new Error(`${url}: ${session.result.result} ${session.result.message}\n${log.map((r) => `${r.status}: ${r.title} ${r.description}`).join('\n')}`);
  return resourceId;
}

/** The backup server's own managed server record: id and name. */
export async function backupServerOf(t: TestServer, token: string) {
  const id = (await t.server.store.db.selectFrom('settings').select('value').where('key', '=', 'backup_server_id').executeTakeFirstOrThrow()).value;
  const name = (await t.api.get(`${SERVERS}/${id}`, { token })).body.name as string;
  return { id, name };
}

/** Every row of the infrastructure tables (and the vault), to compare what an import changed. */
export async function infrastructureRows(t: TestServer) {
  const db = t.server.store.db;
  return {
    credentials: await db.selectFrom('credentials').selectAll().orderBy('id').execute(),
    cloudCredentials: await db.selectFrom('cloud_credentials').selectAll().orderBy('id').execute(),
    vaultSecrets: await db.selectFrom('vault_secrets').selectAll().orderBy('owner_id').orderBy('field').execute(),
    managedServers: await db.selectFrom('managed_servers').selectAll().orderBy('id').execute(),
    repositories: await db.selectFrom('repositories').selectAll().orderBy('id').execute(),
    proxies: await db.selectFrom('proxies').selectAll().orderBy('id').execute(),
  };
}

/** Log lines as `Status: title`, the way a user reads them. */
export const titlesOf = (log: { status: string; title: string }[]) => log.map((r) => `${r.status}: ${r.title}`);
