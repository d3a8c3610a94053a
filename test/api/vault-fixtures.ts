import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeSelfSignedCertificate } from '../support/tls.js';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);

export interface SshKeys {
  /** OpenSSH format, ed25519, encrypted with `passphrase`. */
  opensshEncrypted: string;
  /** Legacy PEM (BEGIN RSA PRIVATE KEY), no passphrase. */
  pemPlain: string;
  /** PEM ECDSA encrypted with `passphrase`. */
  pemEncrypted: string;
  publicKey: string;
  puttyPlain: string;
  puttyEncrypted: string;
  passphrase: string;
  puttyPassphrase: string;
}

/** Keys made by ssh-keygen, the tool administrators use, plus PuTTY files from ssh2's fixtures. */
export async function makeSshKeys(): Promise<SshKeys> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-keys-'));
  try {
    const passphrase = 'key-Passphrase-1';
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'test', '-f', path.join(dir, 'ed')]);
    await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-C', 'test', '-f', path.join(dir, 'rsa')]);
    await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-m', 'PEM', '-N', passphrase, '-C', 'test', '-f', path.join(dir, 'ec')]);
    const read = (f: string) => readFile(path.join(dir, f), 'utf8');
    return {
      opensshEncrypted: await read('ed'),
      pemPlain: await read('rsa'),
      pemEncrypted: await read('ec'),
      publicKey: await read('rsa.pub'),
      puttyPlain: await readFile(path.join(here, 'fixtures', 'putty_rsa.ppk'), 'utf8'),
      puttyEncrypted: await readFile(path.join(here, 'fixtures', 'putty_rsa_enc.ppk'), 'utf8'),
      passphrase,
      puttyPassphrase: 'node.js',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A PFX with a self-signed certificate and its key, as `openssl pkcs12 -export` writes it; base64. */
export async function makePfx(password: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rampart-pfx-'));
  try {
    await writeSelfSignedCertificate(path.join(dir, 'k.pem'), path.join(dir, 'c.pem'), { cn: 'rampart-azure-app', days: 30 });
    await run('openssl', ['pkcs12', '-export', '-inkey', 'k.pem', '-in', 'c.pem', '-out', 'a.pfx', '-passout', `pass:${password}`], { cwd: dir });
    return (await readFile(path.join(dir, 'a.pfx'))).toString('base64');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
