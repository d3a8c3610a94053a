import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSingleUseHost, removeHardenedInstalls } from '../support/hardened.js';
import { acceptsConnections, freePort } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { sessionWaiters } from '../support/sessions.js';
import { haveSshd, isRoot, startSshd, type Sshd } from '../support/sshd.js';
import { INSTALL_ROOT } from '../../src/api/repositories/hardened.js';

/**
 * A hardened repository whose add fails after Rampart's transport service was
 * installed on the host (a real sshd on loopback, single-use root credentials):
 * the service is removed over the install's own login, so the failed add leaves
 * nothing running and nothing in the install folder. The failure is a stop of the
 * session while the service installs: the install finishes, the save is refused.
 */

const REPOS = '/api/v1/backupInfrastructure/repositories';

/** Whether something accepts connections on the loopback port. */
const listening = (port: number) => acceptsConnections('127.0.0.1', port);

describe.skipIf(!haveSshd || !isRoot)('a hardened repository add that fails after the install (real sshd, single-use credentials)', () => {
  let sshd: Sshd;
  let t: TestServer;
  let token: string;
  let root: string;
  let repositoryId: string | undefined;

  const { logText } = sessionWaiters(() => ({ t, token }));

  beforeAll(async () => {
    [sshd, t] = await Promise.all([startSshd({ allowRootWithKey: true }), startTestServer({ RAMPART_PROBE_TIMEOUT_MS: '5000', RAMPART_REPOSITORY_REFRESH_SECONDS: '0' })]);
    token = await t.adminToken();
    root = await mkdtemp(path.join(tmpdir(), 'rampart-hardened-cleanup-'));
  }, 120_000);

  afterAll(async () => {
    // Only if the code under test left it behind (the test then fails): do not leave a service running on this machine.
    if (repositoryId) await removeHardenedInstalls([repositoryId]);
    await Promise.all([t?.cleanup(), sshd?.stop()]);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('the service installed for an add that is then stopped is removed over the same login; no repository, no folder, no listener', async () => {
    const servicePort = await freePort();
    const hostId = await addSingleUseHost({ t, token }, sshd, { serverName: '127.0.0.1', managementPort: servicePort });

    const add = await t.api.post(REPOS, {
      token,
      json: {
        type: 'LinuxHardened',
        name: 'Hardened',
        description: 'stopped while installing',
        hostId,
        repository: { path: path.join(root, 'hardened'), maxTaskCount: 2, makeRecentBackupsImmutableDays: 7 },
        mountServer: { mountServerId: hostId, writeCacheFolder: '/var/cache', vPowerNFSEnabled: false },
      },
    });
    expect(add.status, add.text).toBe(201);
    repositoryId = add.body.resourceId as string;
    // Stop while the install runs: it finishes (nothing interrupts a half-written service), then the save is refused.
    for (let i = 0; !(await logText(add.body.id)).includes("Installing and starting Rampart's transport service"); i++) {
      if (i > 600) throw new Error(`the install never started:\n${await logText(add.body.id)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const stop = await t.api.post(`/api/v1/sessions/${add.body.id}/stop`, { token });
    expect(stop.status, stop.text).toBeLessThan(300);
    await t.server.runner.settled(add.body.id);
    const session = (await t.api.get(`/api/v1/sessions/${add.body.id}`, { token })).body;
    const log = await logText(add.body.id);
    expect(session.result.result, log).not.toBe('Success');
    // The install had happened: otherwise this test proves nothing.
    expect(log).toContain(`Succeeded: Transport service installed and started on "127.0.0.1" port ${servicePort}`);
    expect(log).toContain(
      `Succeeded: Transport service stopped and ${INSTALL_ROOT}/${repositoryId} removed from "127.0.0.1": the repository was not saved, so nothing of this add is left on the host`,
    );
    expect(log).toMatch(/SSH session closed: the single-use credentials were used once and discarded/);

    expect((await t.api.get(`${REPOS}/${repositoryId}`, { token })).status).toBe(404);
    expect(existsSync(path.join(INSTALL_ROOT, repositoryId))).toBe(false);
    // The supervising loop and the service it ran are gone: nothing answers on the service's port.
    for (let i = 0; (await listening(servicePort)) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await listening(servicePort)).toBe(false);
  }, 120_000);
});
