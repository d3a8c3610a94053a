import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The openssl command line as an independent peer: it makes the PFX and
 * PEM files administrators would bring, and it reads back what Rampart
 * makes. Only tests use it; production code never shells out.
 */

const execFileAsync = promisify(execFile);

export async function openssl(args: string[], cwd: string): Promise<string> {
  const { stdout } = await execFileAsync('openssl', args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  return stdout;
}

/** Runs openssl expecting failure; returns its stderr. */
export async function opensslFails(args: string[], cwd: string): Promise<string> {
  try {
    await openssl(args, cwd);
  } catch (error) {
    return String((error as { stderr?: unknown }).stderr ?? error);
  }
  throw new Error(`openssl ${args.join(' ')} succeeded`);
}

export interface Workdir {
  path: string;
  file(name: string): string;
  write(name: string, contents: string | Uint8Array): Promise<string>;
  read(name: string): Promise<Buffer>;
  readText(name: string): Promise<string>;
  openssl(...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

export async function makeWorkdir(): Promise<Workdir> {
  const path = await mkdtemp(join(tmpdir(), 'rampart-pki-'));
  return {
    path,
    file: (name) => join(path, name),
    write: async (name, contents) => {
      await writeFile(join(path, name), contents);
      return join(path, name);
    },
    read: (name) => readFile(join(path, name)),
    readText: (name) => readFile(join(path, name), 'utf8'),
    openssl: (...args) => openssl(args, path),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** `notBefore=2026-11-23 18:02:04Z` (openssl -dateopt iso_8601) to a Date. */
export function opensslIsoDate(line: string): Date {
  const value = line.slice(line.indexOf('=') + 1).trim();
  return new Date(value.replace(' ', 'T'));
}

/** `SHA1 Fingerprint=AA:BB:...` to `AA:BB:...`. */
export function afterEquals(output: string): string {
  return output.slice(output.indexOf('=') + 1).trim();
}

/**
 * A small PKI made by openssl: a CA, a leaf it signed (RSA), and
 * self-signed RSA and EC certificates, each with its key.
 */
export async function makeOpensslPki(dir: Workdir): Promise<void> {
  await Promise.all([
    dir.openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.crt', '-days', '30', '-subj', '/CN=rsa.example'),
    dir.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ec.key', '-out', 'ec.crt', '-days', '30', '-subj', '/CN=ec.example'),
    dir.openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-384',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '60',
      '-subj',
      '/C=US/O=Rampart Test/CN=Rampart Test CA',
    ),
    dir.openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/C=US/O=Acme, Inc./CN=vc01.example'),
  ]);
  await dir.write('leaf.ext', 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:vc01.example,IP:10.0.0.5,IP:fd00::5\nextendedKeyUsage=serverAuth\n');
  await dir.openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '20', '-extfile', 'leaf.ext');
}
