import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { probeTlsCertificate } from '../../src/probe/tls-probe.js';
import { probeSshHostKey } from '../../src/probe/ssh-probe.js';
import { openSshSession } from '../../src/probe/ssh-session.js';
import { readHostFacts, checkElevation } from '../../src/probe/host-facts.js';
import { checkHttps } from '../../src/probe/https-check.js';
import { runBatch } from '../../src/probe/batch.js';
import { ProbeError } from '../../src/probe/errors.js';
import { closedPort, makeTlsMaterial, startHttpPeer, startSilentPeer, startSsh2Peer, sshKeyPair, startTlsPeer, type Peer } from '../support/peers.js';
import { haveSshd, isRoot, keyscanFingerprints, startSshd, TEST_PASSWORD, TEST_USER, type Sshd } from '../support/sshd.js';
import { opensslFacts } from '../support/tls.js';

const opts = { timeoutMs: 5000 };

async function failure(promise: Promise<unknown>): Promise<ProbeError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ProbeError) return err;
    throw err;
  }
  throw new Error('expected the probe to fail');
}

describe('probeTlsCertificate against real TLS servers', () => {
  const peers: Peer[] = [];
  afterAll(async () => Promise.all(peers.map((p) => p.close())));

  for (const [key, chained] of [
    ['rsa', false],
    ['ec', false],
    ['rsa', true],
    ['ec', true],
  ] as const) {
    it(`reads a ${key.toUpperCase()} ${chained ? 'CA-issued' : 'self-signed'} certificate as openssl sees it`, async () => {
      const material = await makeTlsMaterial(key, { chained });
      const peer = await startTlsPeer(material);
      peers.push(peer);
      const result = await probeTlsCertificate('127.0.0.1', peer.port, opts);
      const facts = await opensslFacts(material.leafPem);
      expect(result.description.thumbprint).toBe(facts.sha1.replace(/:/g, ''));
      expect(result.description.sha256Fingerprint).toBe(facts.sha256);
      expect(result.description.keySize).toBe(String(facts.keyBits));
      expect(result.description.keyAlgorithm).toBe(key === 'rsa' ? 'RSA-PKCS1-KeyEx' : 'ECDSA_P256');
      expect(result.chain.length).toBe(chained ? 1 : 0);
      expect(result.trusted).toBe(false);
      expect(result.elapsedMs).toBeLessThan(2000);
    });
  }

  it('works over IPv6 (::1 and [::1]) and with a host name (localhost, sent as SNI)', async () => {
    const material = await makeTlsMaterial('ec');
    const v6 = await startTlsPeer(material, '::1');
    peers.push(v6);
    const a = await probeTlsCertificate('::1', v6.port, opts);
    const b = await probeTlsCertificate('[::1]', v6.port, opts);
    expect(a.description.thumbprint).toBe(b.description.thumbprint);
    const v4 = await startTlsPeer(material);
    peers.push(v4);
    const c = await probeTlsCertificate('localhost', v4.port, opts).catch(() => probeTlsCertificate('localhost', v6.port, opts));
    expect(c.description.thumbprint).toBe(a.description.thumbprint);
  });

  it('says why it failed: refused, unknown name, silent listener (timeout), plain HTTP, SSH', async () => {
    const refused = await failure(probeTlsCertificate('127.0.0.1', await closedPort(), opts));
    expect(refused.kind).toBe('ConnectionRefused');
    expect(refused.message).toMatch(/refused/);
    const unknown = await failure(probeTlsCertificate('nonexistent.invalid', 443, opts));
    expect(unknown.kind).toBe('NameNotResolved');
    expect(unknown.message).toContain('nonexistent.invalid');
    const silent = await startSilentPeer();
    peers.push(silent);
    const started = Date.now();
    const timedOut = await failure(probeTlsCertificate('127.0.0.1', silent.port, { timeoutMs: 300 }));
    expect(timedOut.kind).toBe('TimedOut');
    expect(timedOut.message).toMatch(/300 ms.*no TLS handshake/);
    expect(Date.now() - started).toBeLessThan(1500);
    const httpPeer = await startHttpPeer();
    peers.push(httpPeer);
    const plain = await failure(probeTlsCertificate('127.0.0.1', httpPeer.port, opts));
    expect(plain.kind).toBe('WrongProtocol');
    expect(plain.message).toMatch(/plain HTTP/);
    const sshPeer = await startSsh2Peer({ hostKeys: [sshKeyPair().private], username: 'x', password: 'y' });
    peers.push(sshPeer);
    const ssh = await failure(probeTlsCertificate('127.0.0.1', sshPeer.port, opts));
    expect(ssh.kind).toBe('WrongProtocol');
    expect(ssh.message).toMatch(/SSH server.*LinuxHost/);
  });

  it('checkHttps sends a real request after checking the pin, and refuses another certificate', async () => {
    const material = await makeTlsMaterial('rsa');
    const peer = await startTlsPeer(material);
    peers.push(peer);
    const thumbprint = (await opensslFacts(material.leafPem)).sha1;
    const answer = await checkHttps('127.0.0.1', peer.port, thumbprint, opts);
    expect(answer).toMatchObject({ statusCode: 200, server: 'stand-in' });
    expect(peer.requests).toEqual(['GET / HTTP/1.1']);
    const wrong = await failure(checkHttps('127.0.0.1', peer.port, 'AA'.repeat(20), opts));
    expect(wrong.kind).toBe('CertificateMismatch');
    expect(peer.requests.length).toBe(1);
  });
});

describe('probeSshHostKey and SSH sessions against an in-process ssh2 server', () => {
  let peer: Peer & { logins: string[] };
  let hostKey: ssh2.ParsedKey;
  const user = sshKeyPair();
  beforeAll(async () => {
    const host = sshKeyPair('ecdsa');
    hostKey = ssh2.utils.parseKey(host.private) as ssh2.ParsedKey;
    peer = await startSsh2Peer({ hostKeys: [host.private], username: 'alice', password: 'Alice-Pw-1', authorizedKey: user.public });
  });
  afterAll(() => peer.close());

  it('reports the host key blob, algorithm and SHA256 fingerprint without logging in', async () => {
    const result = await probeSshHostKey('127.0.0.1', peer.port, opts);
    expect(result.algorithm).toBe('ecdsa-sha2-nistp256');
    expect(result.blob.equals(hostKey.getPublicSSH())).toBe(true);
    expect(result.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(result.serverIdent).toMatch(/^SSH-2\.0-/);
    expect(peer.logins).toEqual([]);
  });

  it('logs in with a password or a key when the pin matches; refuses a wrong pin before sending anything', async () => {
    const { fingerprint } = await probeSshHostKey('127.0.0.1', peer.port, opts);
    const session = await openSshSession('127.0.0.1', peer.port, { username: 'alice', password: 'Alice-Pw-1' }, fingerprint, opts);
    const facts = await readHostFacts(session);
    session.close();
    expect(facts).toEqual({ osName: 'Stand-in Linux 1.0', kernel: 'Linux 6.1.0-test', architecture: 'x86_64', rootFreeBytes: 600000 * 1024, rootTotalBytes: 1000000 * 1024 });
    const byKey = await openSshSession('127.0.0.1', peer.port, { username: 'alice', privateKey: user.private }, fingerprint.replace('SHA256:', 'sha256:'), opts);
    byKey.close();
    expect(peer.logins).toEqual(['password:alice', 'publickey:alice']);
    const mismatch = await failure(openSshSession('127.0.0.1', peer.port, { username: 'alice', password: 'Alice-Pw-1' }, 'SHA256:' + 'A'.repeat(43), opts));
    expect(mismatch.kind).toBe('HostKeyMismatch');
    expect(mismatch.message).toContain(fingerprint);
    expect(peer.logins.length).toBe(2);
    const wrong = await failure(openSshSession('127.0.0.1', peer.port, { username: 'alice', password: 'nope' }, fingerprint, opts));
    expect(wrong.kind).toBe('AuthenticationFailed');
    expect(wrong.message).not.toContain('nope');
    const otherKey = sshKeyPair();
    const wrongKey = await failure(openSshSession('127.0.0.1', peer.port, { username: 'alice', privateKey: otherKey.private }, fingerprint, opts));
    expect(wrongKey.kind).toBe('AuthenticationFailed');
    expect(wrongKey.message).toContain('private key');
  });

  it('a plain HTTP port is not SSH', async () => {
    const httpPeer = await startHttpPeer();
    try {
      const err = await failure(probeSshHostKey('127.0.0.1', httpPeer.port, opts));
      expect(err.kind).toBe('WrongProtocol');
      expect(err.message).toMatch(/plain HTTP/);
    } finally {
      await httpPeer.close();
    }
  });

  it('a silent listener times out within the configured time', async () => {
    const silent = await startSilentPeer();
    try {
      const err = await failure(probeSshHostKey('127.0.0.1', silent.port, { timeoutMs: 250 }));
      expect(err.kind).toBe('TimedOut');
      expect(err.message).toMatch(/no SSH key exchange/);
    } finally {
      await silent.close();
    }
  });

  it('runBatch keeps to the concurrency limit and the deadline', async () => {
    let running = 0;
    let most = 0;
    const outcomes = await runBatch(
      Array.from({ length: 20 }, (_, i) => i),
      { concurrency: 4, deadlineMs: 5000 },
      async (i) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        return i * 2;
      },
    );
    expect(most).toBe(4);
    expect(outcomes.map((o) => (o.ok ? o.value : -1))).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });
});

describe.skipIf(!haveSshd)('against a real OpenSSH sshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd?.stop());

  it('reports the fingerprint ssh-keyscan | ssh-keygen -lf reports, over IPv4, IPv6 and localhost', async () => {
    const expected = await keyscanFingerprints(sshd.port);
    const result = await probeSshHostKey('127.0.0.1', sshd.port, opts);
    expect(expected[result.algorithm]).toBe(result.fingerprint);
    expect(result.serverIdent).toMatch(/OpenSSH/);
    expect((await probeSshHostKey('::1', sshd.port, opts)).fingerprint).toBe(result.fingerprint);
    expect((await probeSshHostKey('localhost', sshd.port, opts)).fingerprint).toBe(result.fingerprint);
  });

  it('logs in with the key, and with a passphrase-protected key; reads OS, kernel and free space', async () => {
    const { fingerprint } = await probeSshHostKey('127.0.0.1', sshd.port, opts);
    const session = await openSshSession('127.0.0.1', sshd.port, { username: TEST_USER, privateKey: sshd.userKey }, fingerprint, opts);
    const facts = await readHostFacts(session);
    session.close();
    expect(facts.kernel).toMatch(/^Linux /);
    expect(facts.osName).not.toBe('unknown');
    expect(facts.rootFreeBytes).toBeGreaterThan(0);
    const enc = await openSshSession('127.0.0.1', sshd.port, { username: TEST_USER, privateKey: sshd.userKeyEncrypted, passphrase: sshd.keyPassphrase }, fingerprint, opts);
    enc.close();
    const badPassphrase = await failure(openSshSession('127.0.0.1', sshd.port, { username: TEST_USER, privateKey: sshd.userKeyEncrypted, passphrase: 'wrong' }, fingerprint, opts));
    expect(badPassphrase.kind).toBe('AuthenticationFailed');
  });

  it.skipIf(!isRoot)(
    'logs in with the password; a wrong password and su with a wrong root password fail clearly',
    async () => {
      const { fingerprint } = await probeSshHostKey('127.0.0.1', sshd.port, opts);
      const session = await openSshSession('127.0.0.1', sshd.port, { username: TEST_USER, password: TEST_PASSWORD }, fingerprint, opts);
      const su = await failure(checkElevation(session, { username: TEST_USER, useSu: true, rootPassword: 'not-the-root-password' }));
      session.close();
      expect(su.kind).toBe('ElevationFailed');
      expect(su.message).not.toContain('not-the-root-password');
      const wrong = await failure(openSshSession('127.0.0.1', sshd.port, { username: TEST_USER, password: 'wrong-password' }, fingerprint, opts));
      expect(wrong.kind).toBe('AuthenticationFailed');
      expect(wrong.message).toContain(TEST_USER);
    },
    30_000,
  );
});
