import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificate, describeCertificateDer } from '../../src/pki/describe.js';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';
import { certificateDers } from '../../src/pki/pem-text.js';
import { afterEquals, makeOpensslPki, makeWorkdir, opensslIsoDate, type Workdir } from './openssl.js';

/**
 * Every field of the description is checked against what openssl prints
 * for the same certificate.
 */

let dir: Workdir;

const subjectNameopt = 'esc_2253,esc_ctrl,utf8,sep_comma_plus_space,sname';

beforeAll(async () => {
  dir = await makeWorkdir();
  await makeOpensslPki(dir);
  await Promise.all([
    dir.openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'multi.key',
      '-out',
      'multi.crt',
      '-days',
      '5',
      '-utf8',
      '-multivalue-rdn',
      '-subj',
      '/C=US/O=Acme, Inc./OU=Ops+UID=42/O=Müller GmbH/CN=vc01.example',
      '-set_serial',
      '0xCE2401CE350B143C',
    ),
    dir.openssl('req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', 'ed.key', '-out', 'ed.crt', '-days', '5', '-subj', '/CN=ed.example'),
    dir.openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-521',
      '-nodes',
      '-keyout',
      'p521.key',
      '-out',
      'p521.crt',
      '-days',
      '5',
      '-subj',
      '/O=No Common Name',
      '-set_serial',
      '1',
    ),
  ]);
});

afterAll(() => dir.remove());

const certificates = ['rsa.crt', 'ec.crt', 'ca.crt', 'leaf.crt', 'multi.crt', 'ed.crt', 'p521.crt'];

describe.each(certificates)('describing %s', (name) => {
  it('gives the fingerprints, serial, subject, issuer and dates openssl gives', async () => {
    const description = describeCertificate(await dir.readText(name));
    const sha1 = afterEquals(await dir.openssl('x509', '-in', name, '-noout', '-fingerprint', '-sha1'));
    const sha256 = afterEquals(await dir.openssl('x509', '-in', name, '-noout', '-fingerprint', '-sha256'));
    expect(description.sha1Fingerprint).toBe(sha1);
    expect(description.thumbprint).toBe(sha1.replace(/:/g, ''));
    expect(description.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(description.sha256Fingerprint).toBe(sha256);
    expect(description.sha256Hex).toBe(sha256.replace(/:/g, '').toLowerCase());
    expect(description.sha256Base64).toBe(Buffer.from(description.sha256Hex, 'hex').toString('base64').replace(/=+$/, ''));
    expect(description.serialNumber).toBe(afterEquals(await dir.openssl('x509', '-in', name, '-noout', '-serial')));
    expect(description.subject).toBe(afterEquals(await dir.openssl('x509', '-in', name, '-noout', '-subject', '-nameopt', subjectNameopt)));
    expect(description.issuer).toBe(afterEquals(await dir.openssl('x509', '-in', name, '-noout', '-issuer', '-nameopt', subjectNameopt)));
    const [notBefore, notAfter] = (await dir.openssl('x509', '-in', name, '-noout', '-dates', '-dateopt', 'iso_8601')).trim().split('\n');
    expect(description.validFrom).toEqual(opensslIsoDate(notBefore));
    expect(description.validBy).toEqual(opensslIsoDate(notAfter));
  });

  it('gives the key type and size and the CA flag openssl reads in -text', async () => {
    const description = describeCertificate(await dir.readText(name));
    const text = await dir.openssl('x509', '-in', name, '-noout', '-text');
    const bits = /Public-Key: \((\d+) bit\)/.exec(text);
    if (description.keyType === 'Ed25519') {
      expect(text).toContain('Public Key Algorithm: ED25519');
      expect(description.keyBits).toBe(256);
    } else {
      expect(String(description.keyBits)).toBe(bits?.[1]);
    }
    expect(description.keySize).toBe(String(description.keyBits));
    expect(description.isCertificateAuthority).toBe(/CA:TRUE/.test(text));
  });
});

describe('certificate description', () => {
  it('names key algorithms the way the Veeam models do', async () => {
    const algorithm = async (name: string) => describeCertificate(await dir.readText(name)).keyAlgorithm;
    expect(await algorithm('rsa.crt')).toBe('RSA-PKCS1-KeyEx');
    expect(await algorithm('ec.crt')).toBe('ECDSA_P256');
    expect(await algorithm('ca.crt')).toBe('ECDSA_P384');
    expect(await algorithm('p521.crt')).toBe('ECDSA_P521');
    expect(await algorithm('ed.crt')).toBe('Ed25519');
    expect(describeCertificate(await dir.readText('p521.crt')).keySize).toBe('521');
  });

  it('writes a multi-attribute subject in certificate order, escaping commas and joining an RDN with +', async () => {
    const description = describeCertificate(await dir.readText('multi.crt'));
    expect(description.subject).toBe('C=US, O=Acme\\, Inc., OU=Ops + UID=42, O=Müller GmbH, CN=vc01.example');
    expect(description.issuedTo).toBe('vc01.example');
    expect(description.issuedBy).toBe('vc01.example');
  });

  it('reads a leaf issued by a CA: issuer, names, not self-signed', async () => {
    const leaf = describeCertificate(await dir.readText('leaf.crt'));
    expect(leaf.subject).toBe('C=US, O=Acme\\, Inc., CN=vc01.example');
    expect(leaf.issuer).toBe('C=US, O=Rampart Test, CN=Rampart Test CA');
    expect(leaf.issuedTo).toBe('vc01.example');
    expect(leaf.issuedBy).toBe('Rampart Test CA');
    expect(leaf.selfSigned).toBe(false);
    expect(leaf.isCertificateAuthority).toBe(false);
    expect(leaf.subjectAlternativeNames).toEqual({ dnsNames: ['vc01.example'], ipAddresses: ['10.0.0.5', 'fd00::5'] });
    const ca = describeCertificate(await dir.readText('ca.crt'));
    expect(ca.selfSigned).toBe(true);
    expect(ca.isCertificateAuthority).toBe(true);
  });

  it('falls back to the whole name when there is no common name', async () => {
    const description = describeCertificate(await dir.readText('p521.crt'));
    expect(description.issuedTo).toBe('O=No Common Name');
    expect(description.issuedBy).toBe('O=No Common Name');
    expect(description.serialNumber).toBe('01');
  });

  it('gives the serial number as openssl prints it, and as .NET (and Veeam) prints it with its sign byte', async () => {
    const description = describeCertificate(await dir.readText('multi.crt'));
    expect(description.serialNumber).toBe('CE2401CE350B143C');
    expect(description.serialNumberAsEncoded).toBe('00CE2401CE350B143C');
  });

  it('describes the first certificate of a chain, and DER the same as PEM', async () => {
    const chain = (await dir.readText('leaf.crt')) + (await dir.readText('ca.crt'));
    const fromPem = describeCertificate(chain);
    expect(fromPem.issuedTo).toBe('vc01.example');
    expect(describeCertificateDer(certificateDers(chain)[0])).toEqual(fromPem);
  });

  it('keeps a name on one line even when a value holds a newline', async () => {
    const pair = await generateSelfSignedCertificate({
      commonName: 'evil\nCN=admin, O=x',
      dnsNames: [],
      ipAddresses: [],
      validBy: new Date(Date.now() + 86_400_000),
    });
    await dir.write('newline.crt', pair.certificatePem);
    const description = describeCertificate(pair.certificatePem);
    expect(description.subject).not.toContain('\n');
    expect(description.subject).toBe(afterEquals(await dir.openssl('x509', '-in', 'newline.crt', '-noout', '-subject', '-nameopt', subjectNameopt)));
    expect(description.issuedTo).toBe('evil\nCN=admin, O=x');
  });

  it('refuses text without a certificate', () => {
    expect(() => describeCertificate('no certificate here')).toThrow(expect.objectContaining({ reason: 'NoCertificate' }));
    expect(() => describeCertificateDer(Buffer.from('3003020100', 'hex'))).toThrow(expect.objectContaining({ reason: 'NotPem' }));
  });
});
