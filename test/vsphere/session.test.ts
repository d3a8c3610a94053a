import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VsphereError } from '../../src/vsphere/errors.js';
import { VsphereSession } from '../../src/vsphere/session.js';
import { closedPort, startSilentPeer } from '../support/peers.js';
import { haveGo, startVcsim, vcsimTarget, type Vcsim } from '../support/vcsim.js';

describe.skipIf(!haveGo)('vSphere session against vcsim', () => {
  let vcsim: Vcsim;
  beforeAll(async () => {
    vcsim = await startVcsim();
  });
  afterAll(async () => {
    await vcsim?.stop();
  });

  it('logs in with the right credentials, reads the ServiceContent, and logs out', async () => {
    const session = await VsphereSession.login(vcsimTarget(vcsim), { username: vcsim.username, password: vcsim.password });
    expect(session.content.about.apiType).toBe('VirtualCenter');
    expect(session.content.about.apiVersion).toBe('6.5');
    expect(session.content.rootFolder.type).toBe('Folder');
    expect(await session.isActive()).toBe(true);
    await session.logout();
  });

  it('says the password is wrong in words a person can act on', async () => {
    const err = await VsphereSession.login(vcsimTarget(vcsim), { username: vcsim.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VsphereError);
    expect((err as VsphereError).kind).toBe('InvalidLogin');
    expect((err as VsphereError).message).toBe(`Cannot log in to 127.0.0.1:${vcsim.port}: incorrect user name or password`);
    expect((err as VsphereError).message).not.toContain('wrong');
  });

  it('sends nothing to a host whose certificate does not match the pin', async () => {
    const err = await VsphereSession.login({ ...vcsimTarget(vcsim), thumbprint: '00'.repeat(20) }, { username: vcsim.username, password: vcsim.password }).catch((e: unknown) => e);
    expect((err as VsphereError).kind).toBe('CertificateMismatch');
    expect((err as VsphereError).message).toContain('does not match the pinned thumbprint');
  });

  it('fails fast on a closed port and within the deadline on a silent one', async () => {
    const port = await closedPort();
    const refused = await VsphereSession.login({ host: '127.0.0.1', port, thumbprint: vcsim.thumbprint, timeoutMs: 2000 }, { username: 'a', password: 'b' }).catch(
      (e: unknown) => e,
    );
    expect((refused as VsphereError).kind).toBe('Unreachable');
    expect((refused as VsphereError).message).toContain('connection was refused');

    const silent = await startSilentPeer();
    try {
      const started = Date.now();
      const err = await VsphereSession.login({ host: '127.0.0.1', port: silent.port, thumbprint: vcsim.thumbprint, timeoutMs: 500 }, { username: 'a', password: 'b' }).catch(
        (e: unknown) => e,
      );
      expect((err as VsphereError).kind).toBe('TimedOut');
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await silent.close();
    }
  });
});
