import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { closedPort } from './peers.js';
import { run } from './tls.js';

export const SSHD = '/usr/sbin/sshd';
export const haveSshd = existsSync(SSHD);
export const isRoot = process.getuid?.() === 0;

/** The account tests log in as: a throwaway user when root may create one, else the current user (keys only). */
export const TEST_USER = isRoot ? 'rampart-ssh-test' : userInfo().username;
export const TEST_PASSWORD = 'Ssh-Test-Passw0rd!';

export interface Sshd {
  port: number;
  dir: string;
  /** Host public keys by type, as in *.pub files. */
  hostPublicKeys: Record<'ed25519' | 'ecdsa' | 'rsa', string>;
  /** A private key (OpenSSH format, no passphrase) authorized for TEST_USER, and one encrypted with `keyPassphrase`. */
  userKey: string;
  userKeyEncrypted: string;
  keyPassphrase: string;
  output(): string;
  stop(): Promise<void>;
}

async function ensureTestUser(): Promise<void> {
  if (!isRoot) return;
  const exists = await run('id', ['-u', TEST_USER]).then(
    () => true,
    () => false,
  );
  if (!exists) await run('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('chpasswd');
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}`))));
    child.stdin.end(`${TEST_USER}:${TEST_PASSWORD}\n`);
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}:\n${output()}`);
}

/** A real OpenSSH sshd on a free loopback port (IPv4 and IPv6), with its own host keys and config. */
export async function startSshd(options: { allowRootWithKey?: boolean } = {}): Promise<Sshd> {
  await ensureTestUser();
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-sshd-'));
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  for (const [type, extra] of [
    ['ed25519', []],
    ['ecdsa', ['-b', '256']],
    ['rsa', ['-b', '2048']],
  ] as const) {
    await run('ssh-keygen', ['-q', '-t', type, ...extra, '-N', '', '-C', 'host', '-f', path.join(dir, `ssh_host_${type}_key`)]);
  }
  const keyPassphrase = 'user-key-Passphrase';
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'user', '-f', path.join(dir, 'user_key')]);
  await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', keyPassphrase, '-C', 'user', '-f', path.join(dir, 'user_key_enc')]);
  const authorized = (await readFile(path.join(dir, 'user_key.pub'), 'utf8')) + (await readFile(path.join(dir, 'user_key_enc.pub'), 'utf8'));
  await writeFile(path.join(dir, 'authorized_keys'), authorized, { mode: 0o644 });
  const port = await closedPort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    'ListenAddress ::1',
    ...['ed25519', 'ecdsa', 'rsa'].map((t) => `HostKey ${path.join(dir, `ssh_host_${t}_key`)}`),
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    // The keys live under /tmp, which is world-writable: StrictModes would refuse them.
    'StrictModes no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // Hardened repository tests install as root with the user key (single-use credentials).
    options.allowRootWithKey ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
    options.allowRootWithKey ? `AllowUsers ${TEST_USER} root` : `AllowUsers ${TEST_USER}`,
    'LogLevel INFO',
    // The chunk store's Linux repositories speak SFTP (posix-rename and hardlink extensions).
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'sshd_config'), config);
  const child = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  await waitForPort(port, child, () => out);
  const pub = (t: string) => readFile(path.join(dir, `ssh_host_${t}_key.pub`), 'utf8');
  return {
    port,
    dir,
    hostPublicKeys: { ed25519: await pub('ed25519'), ecdsa: await pub('ecdsa'), rsa: await pub('rsa') },
    userKey: await readFile(path.join(dir, 'user_key'), 'utf8'),
    userKeyEncrypted: await readFile(path.join(dir, 'user_key_enc'), 'utf8'),
    keyPassphrase,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What `ssh-keyscan -p PORT HOST | ssh-keygen -lf -` says: fingerprints by key type. */
export async function keyscanFingerprints(port: number, host = '127.0.0.1'): Promise<Record<string, string>> {
  const { stdout } = await run('ssh-keyscan', ['-p', String(port), host]);
  const lines = stdout.split('\n').filter((l) => l && !l.startsWith('#'));
  const fingerprints: Record<string, string> = {};
  for (const line of lines) {
    const listed = await new Promise<string>((resolve, reject) => {
      const child = spawn('ssh-keygen', ['-lf', '-']);
      let o = '';
      child.stdout.on('data', (c) => (o += c));
      child.on('exit', (code) => (code === 0 ? resolve(o) : reject(new Error('ssh-keygen -lf failed'))));
      child.stdin.end(`${line}\n`);
    });
    const [, fp, , type] = /^\d+ (SHA256:\S+) (\S+) \((\S+)\)/.exec(listed.trim()) ?? [];
    if (fp && type) fingerprints[line.split(' ')[1]!] = fp;
  }
  return fingerprints;
}
