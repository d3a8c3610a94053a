import { existsSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { INSTALL_ROOT } from '../../src/api/repositories/hardened.js';
import { apiOf, sessionWaiters, type SessionTarget } from './sessions.js';
import type { Sshd } from './sshd.js';

const SERVERS = '/api/v1/backupInfrastructure/managedServers';

/**
 * Removes what hardened repository installs left on this machine: their transport services
 * outlive Rampart by design, so each supervising loop's process group is stopped and its
 * install folder removed; the install root goes too when nothing else is in it.
 */
export async function removeHardenedInstalls(repositoryIds: string[]): Promise<void> {
  for (const id of repositoryIds) {
    const pidFile = path.join(INSTALL_ROOT, id, 'supervisor.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(-Number((await readFile(pidFile, 'utf8')).trim()), 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    await rm(path.join(INSTALL_ROOT, id), { recursive: true, force: true });
  }
  // The install made it; removed only when empty (another install may be using it).
  await rmdir(INSTALL_ROOT).catch(() => undefined);
}

/** Root's single-use credentials on the sshd (its key), as the 1.2 API takes them: each set serves one operation. */
export const singleUseRoot = (sshd: Sshd) => ({ username: 'root', privateKey: sshd.userKey, SSHPort: sshd.port });

/**
 * Adds the sshd as a LinuxHost the 1.2 way (its SSH fingerprint probed first), named `serverName`,
 * with single-use root credentials and the transport service on `managementPort`; then stores new
 * single-use credentials (the add's login check used its own) for the next operation, such as a
 * hardened repository's install. Expects each session to succeed; answers the host's id.
 */
export async function addSingleUseHost(target: SessionTarget, sshd: Sshd, options: { serverName: string; managementPort: number }): Promise<string> {
  const probe = await apiOf(target).post('/api/v1/connectionCertificate', {
    token: target.token,
    version: '1.2-rev1',
    json: { serverName: options.serverName, type: 'LinuxHost', port: sshd.port, credentialsStorageType: 'SingleUse', singleUseCredentials: singleUseRoot(sshd) },
  });
  expect(probe.status, probe.text).toBe(201);
  const { runSession } = sessionWaiters(() => target);
  const host = await runSession(
    'POST',
    SERVERS,
    {
      name: options.serverName,
      description: 'hardened host',
      type: 'LinuxHost',
      credentialsStorageType: 'SingleUse',
      singleUseCredentials: singleUseRoot(sshd),
      sshFingerprint: probe.body.fingerprint,
      port: sshd.port,
      sshSettings: { managementPort: options.managementPort },
    },
    '1.2-rev1',
  );
  await runSession('POST', `${SERVERS}/${host.resourceId}/updateSingleUseCredentials`, singleUseRoot(sshd), '1.2-rev1');
  return host.resourceId as string;
}
