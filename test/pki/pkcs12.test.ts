import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateKeyPair } from '../../src/pki/certificate-key-pair.js';
import { describeCertificateDer } from '../../src/pki/describe.js';
import { CertificateInputError } from '../../src/pki/errors.js';
import { certificateDers } from '../../src/pki/pem-text.js';
import { openPkcs12 } from '../../src/pki/pkcs12.js';
import { checkServingPair } from '../../src/pki/validate.js';
import { afterEquals, makeOpensslPki, makeWorkdir, type Workdir } from './openssl.js';

/**
 * PFX files made by `openssl pkcs12 -export` in the ways administrators
 * make them, opened by Rampart and compared with their sources.
 */

let dir: Workdir;
const nonAsciiPassword = 'pässwörd€';

interface Made {
  file: string;
  password: string;
  certificate: string;
  key: string;
  chain: string[];
}

const made: Record<string, Made> = {};

async function exportPfx(name: string, source: { certificate: string; key: string; chain?: string[] }, password: string, ...options: string[]) {
  const args = ['pkcs12', '-export', '-in', source.certificate, '-inkey', source.key, '-out', `${name}.pfx`, '-passout', `pass:${password}`, ...options];
  if (source.chain) {
    await dir.write(`${name}.chain.pem`, (await Promise.all(source.chain.map((file) => dir.readText(file)))).join(''));
    args.push('-certfile', `${name}.chain.pem`);
  }
  await dir.openssl(...args);
  made[name] = { file: `${name}.pfx`, password, certificate: source.certificate, key: source.key, chain: source.chain ?? [] };
}

beforeAll(async () => {
  dir = await makeWorkdir();
  await makeOpensslPki(dir);
  // A three-level chain: CA -> intermediate -> leaf2.
  await dir.write('intermediate.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await dir.openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'intermediate.key',
    '-out',
    'intermediate.csr',
    '-subj',
    '/CN=Rampart Test Intermediate',
  );
  await dir.openssl(
    'x509',
    '-req',
    '-in',
    'intermediate.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'intermediate.crt',
    '-days',
    '30',
    '-extfile',
    'intermediate.ext',
  );
  await dir.openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf2.key', '-out', 'leaf2.csr', '-subj', '/CN=leaf2.example');
  await dir.openssl('x509', '-req', '-in', 'leaf2.csr', '-CA', 'intermediate.crt', '-CAkey', 'intermediate.key', '-CAcreateserial', '-out', 'leaf2.crt', '-days', '10');

  const rsa = { certificate: 'rsa.crt', key: 'rsa.key' };
  const ec = { certificate: 'ec.crt', key: 'ec.key' };
  const leaf = { certificate: 'leaf.crt', key: 'leaf.key', chain: ['ca.crt'] };
  const leaf2 = { certificate: 'leaf2.crt', key: 'leaf2.key', chain: ['ca.crt', 'intermediate.crt'] };
  await Promise.all([
    exportPfx('rsa-default', rsa, 'secret'),
    exportPfx('rsa-legacy', rsa, 'secret', '-legacy'),
    exportPfx('ec-default', ec, 'secret'),
    exportPfx('ec-legacy', ec, 'secret', '-legacy'),
    exportPfx('rsa-default-empty', rsa, ''),
    exportPfx('ec-legacy-empty', ec, '', '-legacy'),
    exportPfx('chain-default', leaf, 'secret'),
    exportPfx('chain-legacy', leaf, 'secret', '-legacy'),
    exportPfx('chain3-default', leaf2, 'secret'),
    exportPfx('unicode-default', ec, nonAsciiPassword),
    exportPfx('unicode-legacy', rsa, nonAsciiPassword, '-legacy'),
    exportPfx('windows-3des', rsa, 'secret', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'),
    exportPfx('rc2-key', ec, 'secret', '-legacy', '-keypbe', 'PBE-SHA1-RC2-40'),
    exportPfx('certs-in-clear', ec, 'secret', '-certpbe', 'NONE'),
    exportPfx('no-mac', rsa, 'secret', '-nomac'),
    exportPfx('no-mac-legacy', ec, 'secret', '-nomac', '-legacy'),
    exportPfx('cert-only', rsa, 'secret', '-nokeys'),
    exportPfx('key-only', rsa, 'secret', '-nocerts'),
    exportPfx('many-iterations', ec, 'secret', '-legacy', '-iter', '1000001'),
  ]);
}, 60_000);

afterAll(() => dir.remove());

async function openMade(name: string, password = made[name].password): Promise<CertificateKeyPair> {
  return openPkcs12(await dir.read(made[name].file), password);
}

async function failure(promise: Promise<unknown>): Promise<CertificateInputError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateInputError);
    return error as CertificateInputError;
  }
  throw new Error('expected a CertificateInputError');
}

async function thumbprintOf(file: string): Promise<string> {
  return afterEquals(await dir.openssl('x509', '-in', file, '-noout', '-fingerprint', '-sha1')).replace(/:/g, '');
}

const openable = [
  'rsa-default',
  'rsa-legacy',
  'ec-default',
  'ec-legacy',
  'rsa-default-empty',
  'ec-legacy-empty',
  'chain-default',
  'chain-legacy',
  'chain3-default',
  'unicode-default',
  'unicode-legacy',
  'windows-3des',
  'rc2-key',
  'certs-in-clear',
  'no-mac',
  'no-mac-legacy',
];

describe.each(openable)('opening %s.pfx', (name) => {
  it('gives the same certificate and key, the key as unencrypted PKCS#8', async () => {
    const pair = await openMade(name);
    const source = made[name];
    const [leaf] = certificateDers(pair.certificatePem);
    expect(describeCertificateDer(leaf).thumbprint).toBe(await thumbprintOf(source.certificate));
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    const sourceKey = createPrivateKey(await dir.readText(source.key));
    const spki = (key: Parameters<typeof createPublicKey>[0]) => createPublicKey(key).export({ type: 'spki', format: 'der' });
    expect(spki(pair.privateKeyPem).equals(spki(sourceKey))).toBe(true);
    checkServingPair(pair);
  });

  it('puts the leaf first and its issuers after it, in path order', async () => {
    const pair = await openMade(name);
    const source = made[name];
    const thumbprints = certificateDers(pair.certificatePem).map((der) => describeCertificateDer(der).thumbprint);
    const expectedOrder = [source.certificate, ...[...source.chain].reverse()];
    expect(thumbprints).toEqual(await Promise.all(expectedOrder.map(thumbprintOf)));
  });
});

describe('PKCS#12 refusals', () => {
  it('says the password is wrong, for every encryption, without repeating it', async () => {
    for (const name of ['rsa-default', 'ec-legacy', 'rsa-default-empty', 'windows-3des', 'no-mac', 'no-mac-legacy', 'unicode-default']) {
      const error = await failure(openMade(name, 'Wrong-Password-123'));
      expect(error.reason, name).toBe('WrongPassword');
      expect(error.message).toBe('The certificate password is wrong.');
      expect(error.message).not.toContain('Wrong-Password-123');
    }
    expect((await failure(openMade('rsa-default', ''))).reason).toBe('WrongPassword');
    expect((await failure(openMade('rsa-default-empty', ' '))).reason).toBe('WrongPassword');
  });

  it('says a file that is no PKCS#12 is not one', async () => {
    const pem = await dir.read('rsa.crt');
    const pfx = await dir.read('rsa-default.pfx');
    for (const bytes of [randomBytes(2000), pem, Buffer.alloc(0), Buffer.from([0x30]), pfx.subarray(0, pfx.length / 2), Buffer.from('30820100', 'hex')]) {
      const error = await failure(openPkcs12(bytes, 'secret'));
      expect(error.reason).toBe('NotPkcs12');
      expect(error.message).toBe('The file is not a PKCS#12 (.pfx/.p12) file.');
    }
  });

  it('says a certificate-only file holds no private key', async () => {
    const error = await failure(openMade('cert-only'));
    expect(error.reason).toBe('NoPrivateKey');
    expect(error.message).toBe('The file holds no private key; export the certificate together with its private key.');
  });

  it('says a key-only file holds no certificate', async () => {
    expect((await failure(openMade('key-only'))).reason).toBe('NoCertificate');
  });

  it('refuses iteration counts that would stall the server', async () => {
    const error = await failure(openMade('many-iterations'));
    expect(error.reason).toBe('UnsupportedEncryption');
    expect(error.message).toContain('1000001');
  });
});
