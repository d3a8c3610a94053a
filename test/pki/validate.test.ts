import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateKeyPair } from '../../src/pki/certificate-key-pair.js';
import { CertificateInputError } from '../../src/pki/errors.js';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';
import { checkServingPair } from '../../src/pki/validate.js';
import { makeWorkdir, type Workdir } from './openssl.js';

const identity = { commonName: 'validate.example', dnsNames: ['validate.example'], ipAddresses: [] };
let dir: Workdir;
let current: CertificateKeyPair;
let other: CertificateKeyPair;
let small: CertificateKeyPair;

beforeAll(async () => {
  dir = await makeWorkdir();
  [current, other] = await Promise.all([
    generateSelfSignedCertificate({ ...identity, validFrom: new Date('2024-01-01T00:00:00Z'), validBy: new Date('2030-01-01T00:00:00Z') }),
    generateSelfSignedCertificate({ ...identity, keyAlgorithm: 'RSA-2048', validBy: new Date(Date.now() + 86_400_000) }),
  ]);
  // OpenSSL still makes 512-bit RSA; TLS refuses it (security level 1 needs 1024).
  await dir.openssl('req', '-x509', '-newkey', 'rsa:512', '-nodes', '-keyout', 'small.key', '-out', 'small.crt', '-days', '3', '-subj', '/CN=small');
  small = { certificatePem: await dir.readText('small.crt'), privateKeyPem: await dir.readText('small.key') };
});

afterAll(() => dir.remove());

function failure(check: () => void): CertificateInputError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateInputError);
    return error as CertificateInputError;
  }
  throw new Error('expected a CertificateInputError');
}

describe('checking a serving pair', () => {
  it('accepts a matching, valid pair', () => {
    expect(() => checkServingPair(current, new Date('2026-06-01T00:00:00Z'))).not.toThrow();
    expect(() => checkServingPair(other)).not.toThrow();
  });

  it('accepts the first and the last valid second, and not one beyond', () => {
    expect(() => checkServingPair(current, new Date('2024-01-01T00:00:00Z'))).not.toThrow();
    expect(() => checkServingPair(current, new Date('2030-01-01T00:00:00Z'))).not.toThrow();
    expect(failure(() => checkServingPair(current, new Date('2030-01-01T00:00:01Z'))).reason).toBe('Expired');
    expect(failure(() => checkServingPair(current, new Date('2023-12-31T23:59:59Z'))).reason).toBe('NotYetValid');
  });

  it('says when an expired certificate expired', async () => {
    const expired = await generateSelfSignedCertificate({
      ...identity,
      validFrom: new Date('2020-01-01T00:00:00Z'),
      validBy: new Date('2021-01-01T00:00:00Z'),
    });
    const error = failure(() => checkServingPair(expired));
    expect(error.reason).toBe('Expired');
    expect(error.message).toBe('The certificate expired on 2021-01-01T00:00:00Z.');
  });

  it('says from when a future certificate is valid', async () => {
    const future = await generateSelfSignedCertificate({
      ...identity,
      validFrom: new Date('2099-01-01T00:00:00Z'),
      validBy: new Date('2100-01-01T00:00:00Z'),
    });
    const error = failure(() => checkServingPair(future));
    expect(error.reason).toBe('NotYetValid');
    expect(error.message).toBe('The certificate is not valid before 2099-01-01T00:00:00Z.');
  });

  it('says when the key belongs to another certificate', () => {
    const error = failure(() => checkServingPair({ certificatePem: current.certificatePem, privateKeyPem: other.privateKeyPem }));
    expect(error.reason).toBe('KeyMismatch');
  });

  it('says when TLS refuses the key, with OpenSSL’s reason', () => {
    const error = failure(() => checkServingPair(small));
    expect(error.reason).toBe('UnsupportedKey');
    expect(error.message).toContain('ee key too small');
  });

  it('says when there is no certificate', () => {
    expect(failure(() => checkServingPair({ certificatePem: '', privateKeyPem: current.privateKeyPem })).reason).toBe('NoCertificate');
  });
});
