import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificateDer } from '../../src/pki/describe.js';
import { CertificateInputError } from '../../src/pki/errors.js';
import { openPemBundle } from '../../src/pki/pem.js';
import { certificateDers } from '../../src/pki/pem-text.js';
import { checkServingPair } from '../../src/pki/validate.js';
import { makeOpensslPki, makeWorkdir, type Workdir } from './openssl.js';

let dir: Workdir;
const text: Record<string, string> = {};

beforeAll(async () => {
  dir = await makeWorkdir();
  await makeOpensslPki(dir);
  await Promise.all([
    dir.openssl('rsa', '-in', 'rsa.key', '-traditional', '-out', 'rsa.pkcs1.key'),
    dir.openssl('rsa', '-in', 'rsa.key', '-traditional', '-aes256', '-passout', 'pass:open sesame', '-out', 'rsa.pkcs1-encrypted.key'),
    dir.openssl('ec', '-in', 'ec.key', '-out', 'ec.sec1.key'),
    dir.openssl('pkcs8', '-topk8', '-in', 'ec.key', '-v2', 'aes-256-cbc', '-passout', 'pass:open sesame', '-out', 'ec.pkcs8-encrypted.key'),
    dir.openssl('pkcs8', '-topk8', '-in', 'rsa.key', '-v2', 'aes-128-cbc', '-passout', 'pass:open sesame', '-out', 'rsa.pkcs8-encrypted.key'),
    dir.openssl('ecparam', '-genkey', '-name', 'prime256v1', '-out', 'ecparam.key'),
    dir.openssl('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'ed.key', '-out', 'ed.crt', '-days', '5', '-subj', '/CN=ed.example'),
  ]);
  await dir.openssl('req', '-x509', '-key', 'ecparam.key', '-out', 'ecparam.crt', '-days', '5', '-subj', '/CN=ecparam.example');
  await dir.openssl('pkcs12', '-export', '-in', 'leaf.crt', '-inkey', 'leaf.key', '-certfile', 'ca.crt', '-out', 'leaf.pfx', '-passout', 'pass:x');
  await dir.openssl('pkcs12', '-in', 'leaf.pfx', '-passin', 'pass:x', '-nodes', '-out', 'leaf.pfx.pem');
  for (const name of [
    'rsa.crt',
    'rsa.key',
    'rsa.pkcs1.key',
    'rsa.pkcs1-encrypted.key',
    'rsa.pkcs8-encrypted.key',
    'ec.crt',
    'ec.key',
    'ec.sec1.key',
    'ec.pkcs8-encrypted.key',
    'ecparam.key',
    'ecparam.crt',
    'ed.crt',
    'ed.key',
    'leaf.crt',
    'leaf.key',
    'ca.crt',
    'leaf.pfx.pem',
  ]) {
    text[name] = await dir.readText(name);
  }
}, 60_000);

afterAll(() => dir.remove());

function failure(open: () => unknown): CertificateInputError {
  try {
    open();
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateInputError);
    return error as CertificateInputError;
  }
  throw new Error('expected a CertificateInputError');
}

function sameKey(a: string, b: string): boolean {
  const spki = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return spki(a).equals(spki(b));
}

describe('opening PEM bundles', () => {
  const cases: Array<[string, string, string, string | undefined]> = [
    ['PKCS#8 RSA', 'rsa.crt', 'rsa.key', undefined],
    ['PKCS#1 RSA', 'rsa.crt', 'rsa.pkcs1.key', undefined],
    ['PKCS#1 RSA, OpenSSL-encrypted', 'rsa.crt', 'rsa.pkcs1-encrypted.key', 'open sesame'],
    ['encrypted PKCS#8 RSA', 'rsa.crt', 'rsa.pkcs8-encrypted.key', 'open sesame'],
    ['PKCS#8 EC', 'ec.crt', 'ec.key', undefined],
    ['SEC1 EC', 'ec.crt', 'ec.sec1.key', undefined],
    ['SEC1 EC after EC PARAMETERS', 'ecparam.crt', 'ecparam.key', undefined],
    ['encrypted PKCS#8 EC', 'ec.crt', 'ec.pkcs8-encrypted.key', 'open sesame'],
    ['PKCS#8 Ed25519', 'ed.crt', 'ed.key', undefined],
  ];

  it.each(cases)('reads a %s key into unencrypted PKCS#8', (_, certificate, key, passphrase) => {
    expect(text[key]).toContain('-----BEGIN');
    const pair = openPemBundle(text[certificate], text[key], passphrase);
    expect(pair.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(sameKey(pair.privateKeyPem, text[certificate])).toBe(true);
    expect(certificateDers(pair.certificatePem)).toEqual(certificateDers(text[certificate]));
    checkServingPair(pair);
  });

  it('checks the fixtures are the key forms they claim to be', () => {
    expect(text['rsa.pkcs1.key']).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(text['rsa.pkcs1-encrypted.key']).toContain('Proc-Type: 4,ENCRYPTED');
    expect(text['ec.sec1.key']).toContain('-----BEGIN EC PRIVATE KEY-----');
    expect(text['ecparam.key']).toContain('-----BEGIN EC PARAMETERS-----');
    expect(text['ec.pkcs8-encrypted.key']).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  });

  it('reads certificate and key from one text, in either order, with CRLF line ends', () => {
    for (const bundle of [text['ec.crt'] + text['ec.key'], text['ec.key'] + text['ec.crt'], (text['ec.key'] + text['ec.crt']).replace(/\n/g, '\r\n')]) {
      const pair = openPemBundle(bundle);
      expect(sameKey(pair.privateKeyPem, text['ec.crt'])).toBe(true);
    }
  });

  it('puts the leaf first whatever order the chain came in', () => {
    const pair = openPemBundle(text['ca.crt'] + text['leaf.crt'], text['leaf.key']);
    const names = certificateDers(pair.certificatePem).map((der) => describeCertificateDer(der).issuedTo);
    expect(names).toEqual(['vc01.example', 'Rampart Test CA']);
  });

  it('reads what `openssl pkcs12 -nodes` prints, Bag Attributes and all', () => {
    expect(text['leaf.pfx.pem']).toContain('Bag Attributes');
    const pair = openPemBundle(text['leaf.pfx.pem']);
    const names = certificateDers(pair.certificatePem).map((der) => describeCertificateDer(der).issuedTo);
    expect(names).toEqual(['vc01.example', 'Rampart Test CA']);
  });
});

describe('PEM refusals', () => {
  it('asks for the passphrase of an encrypted key, and says when it is wrong', () => {
    for (const key of ['ec.pkcs8-encrypted.key', 'rsa.pkcs1-encrypted.key']) {
      const certificate = key.startsWith('ec') ? text['ec.crt'] : text['rsa.crt'];
      const missing = failure(() => openPemBundle(certificate, text[key]));
      expect(missing.reason).toBe('WrongPassword');
      expect(missing.message).toBe('The private key is encrypted; give its passphrase.');
      const wrong = failure(() => openPemBundle(certificate, text[key], 'not it'));
      expect(wrong.reason).toBe('WrongPassword');
      expect(wrong.message).not.toContain('not it');
    }
  });

  it('says when the key belongs to another certificate', () => {
    const error = failure(() => openPemBundle(text['rsa.crt'], text['ec.key']));
    expect(error.reason).toBe('KeyMismatch');
    expect(error.message).toBe('The private key does not belong to the certificate.');
  });

  it('says what is missing', () => {
    expect(failure(() => openPemBundle(text['rsa.crt'])).reason).toBe('NoPrivateKey');
    expect(failure(() => openPemBundle('', text['rsa.key'])).reason).toBe('NoCertificate');
    expect(failure(() => openPemBundle('hello', 'world')).reason).toBe('NotPem');
    expect(failure(() => openPemBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', text['rsa.key'])).reason).toBe('NotPem');
  });

  it('never puts key material into a message', () => {
    const corrupted = text['rsa.key'].replace(/\n([A-Za-z0-9+/]{10})/, '\nAAAAAAAAAA');
    const error = failure(() => openPemBundle(text['rsa.crt'], corrupted));
    expect(error.reason).toBe('UnsupportedKey');
    for (const line of text['rsa.key'].split('\n').filter((l) => l.length > 20)) expect(error.message).not.toContain(line);
  });
});
