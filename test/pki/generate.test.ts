import { createPrivateKey, X509Certificate } from 'node:crypto';
import { connect, createServer, type Server } from 'node:tls';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateKeyPair } from '../../src/pki/certificate-key-pair.js';
import { describeCertificate } from '../../src/pki/describe.js';
import { defaultServerIdentity, generateSelfSignedCertificate } from '../../src/pki/generate.js';
import { isKeyAlgorithmName, keyAlgorithmNames, type KeyAlgorithmName } from '../../src/pki/key-algorithms.js';
import { checkServingPair } from '../../src/pki/validate.js';
import { makeWorkdir, opensslIsoDate, type Workdir } from './openssl.js';

const validFrom = new Date('2025-01-02T03:04:05.678Z');
const validBy = new Date('2031-06-07T08:09:10.999Z');
const identity = {
  commonName: 'rampart.example',
  dnsNames: ['rampart.example', 'localhost'],
  ipAddresses: ['127.0.0.1', '::1', '2001:db8:0:0:0:0:0:7'],
};

const expected: Record<KeyAlgorithmName, { keyType: string; keyBits: number; keyAlgorithm: string; signature: string }> = {
  'ECDSA-P256': { keyType: 'EC', keyBits: 256, keyAlgorithm: 'ECDSA_P256', signature: 'ecdsa-with-SHA256' },
  'ECDSA-P384': { keyType: 'EC', keyBits: 384, keyAlgorithm: 'ECDSA_P384', signature: 'ecdsa-with-SHA384' },
  'RSA-2048': { keyType: 'RSA', keyBits: 2048, keyAlgorithm: 'RSA-PKCS1-KeyEx', signature: 'sha256WithRSAEncryption' },
  'RSA-3072': { keyType: 'RSA', keyBits: 3072, keyAlgorithm: 'RSA-PKCS1-KeyEx', signature: 'sha256WithRSAEncryption' },
  'RSA-4096': { keyType: 'RSA', keyBits: 4096, keyAlgorithm: 'RSA-PKCS1-KeyEx', signature: 'sha256WithRSAEncryption' },
};

let dir: Workdir;
const pairs = new Map<KeyAlgorithmName, CertificateKeyPair>();

beforeAll(async () => {
  dir = await makeWorkdir();
  // All five at once: the RSA ones search for primes on the thread pool side by side.
  await Promise.all(
    keyAlgorithmNames.map(async (keyAlgorithm) => {
      pairs.set(keyAlgorithm, await generateSelfSignedCertificate({ keyAlgorithm, ...identity, validFrom, validBy }));
    }),
  );
  for (const [name, pair] of pairs) await dir.write(`${name}.pem`, pair.certificatePem);
});

afterAll(() => dir.remove());

describe('key algorithm names', () => {
  it('recognises exactly the five names', () => {
    expect(keyAlgorithmNames).toEqual(['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096']);
    for (const name of keyAlgorithmNames) expect(isKeyAlgorithmName(name)).toBe(true);
    for (const other of ['RSA-1024', 'ecdsa-p256', '', 42, null]) expect(isKeyAlgorithmName(other)).toBe(false);
  });
});

describe.each(keyAlgorithmNames)('a generated %s certificate', (algorithm) => {
  it('has the key type and size asked for, and a PKCS#8 key that belongs to it', () => {
    const pair = pairs.get(algorithm)!;
    const description = describeCertificate(pair.certificatePem);
    expect(description.keyType).toBe(expected[algorithm].keyType);
    expect(description.keyBits).toBe(expected[algorithm].keyBits);
    expect(description.keySize).toBe(String(expected[algorithm].keyBits));
    expect(description.keyAlgorithm).toBe(expected[algorithm].keyAlgorithm);
    expect(pair.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(new X509Certificate(pair.certificatePem).checkPrivateKey(createPrivateKey(pair.privateKeyPem))).toBe(true);
    checkServingPair(pair, new Date('2026-01-01T00:00:00Z'));
  });

  it('reads back in openssl as an X.509 v3 server certificate', async () => {
    const text = await dir.openssl('x509', '-in', `${algorithm}.pem`, '-noout', '-text');
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toContain(`Signature Algorithm: ${expected[algorithm].signature}`);
    expect(text).toMatch(/Subject: CN ?= ?rampart\.example\n/);
    expect(text).toMatch(/Issuer: CN ?= ?rampart\.example\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    const keyUsage = algorithm.startsWith('RSA') ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\n\\s+${keyUsage}\\n`));
    expect(text).toMatch(/X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier: ?\n\s+[0-9A-F:]{59}\n/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: ?\n\s+DNS:rampart\.example, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:7\n/,
    );
  });

  it('is valid exactly from and by the requested seconds', async () => {
    const dates = (await dir.openssl('x509', '-in', `${algorithm}.pem`, '-noout', '-dates', '-dateopt', 'iso_8601')).trim().split('\n');
    expect(opensslIsoDate(dates[0]).toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(opensslIsoDate(dates[1]).toISOString()).toBe('2031-06-07T08:09:10.000Z');
    const description = describeCertificate(pairs.get(algorithm)!.certificatePem);
    expect(description.validFrom.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(description.validBy.toISOString()).toBe('2031-06-07T08:09:10.000Z');
  });

  it('is self-signed, and its signature verifies in openssl and Node', async () => {
    const output = await dir.openssl('verify', '-check_ss_sig', '-partial_chain', '-attime', '1767225600', '-CAfile', `${algorithm}.pem`, `${algorithm}.pem`);
    expect(output.trim()).toBe(`${algorithm}.pem: OK`);
    const certificate = new X509Certificate(pairs.get(algorithm)!.certificatePem);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(describeCertificate(pairs.get(algorithm)!.certificatePem).selfSigned).toBe(true);
  });

  it('has a random positive 16-byte serial number', async () => {
    const serial = (await dir.openssl('x509', '-in', `${algorithm}.pem`, '-noout', '-serial')).trim();
    expect(serial).toMatch(/^serial=(?!00)[0-7][0-9A-F]{31}$/);
  });
});

describe('certificate generation', () => {
  it('defaults to ECDSA P-256, valid from five minutes ago', async () => {
    const before = Date.now();
    const pair = await generateSelfSignedCertificate({ ...identity, validBy: new Date(before + 86_400_000) });
    const description = describeCertificate(pair.certificatePem);
    expect(description.keyAlgorithm).toBe('ECDSA_P256');
    const skew = before - description.validFrom.getTime();
    expect(skew).toBeGreaterThanOrEqual(5 * 60_000 - 1000);
    expect(skew).toBeLessThanOrEqual(5 * 60_000 + 1000);
  });

  it('generates an ECDSA P-256 certificate well under 50 ms', async () => {
    const options = { ...identity, validBy: new Date(Date.now() + 86_400_000) };
    await generateSelfSignedCertificate(options); // warm up: first use loads the ASN.1 machinery
    const rounds = 10;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) await generateSelfSignedCertificate(options);
    const average = (performance.now() - started) / rounds;
    expect(average).toBeLessThan(50);
  });

  it('gives every certificate a different serial number', async () => {
    const options = { ...identity, validBy: new Date(Date.now() + 86_400_000) };
    const serials = await Promise.all(Array.from({ length: 5 }, async () => describeCertificate((await generateSelfSignedCertificate(options)).certificatePem).serialNumber));
    expect(new Set(serials).size).toBe(5);
  });

  it('keeps a common name with a comma or a plus as one value', async () => {
    const pair = await generateSelfSignedCertificate({
      commonName: 'Rampart, Inc.+Lab',
      dnsNames: [],
      ipAddresses: [],
      validBy: new Date(Date.now() + 86_400_000),
    });
    const description = describeCertificate(pair.certificatePem);
    expect(description.issuedTo).toBe('Rampart, Inc.+Lab');
    expect(description.subject).toBe('CN=Rampart\\, Inc.\\+Lab');
    expect(description.subjectAlternativeNames).toEqual({ dnsNames: [], ipAddresses: [] });
  });

  it('writes IPv6 alternative names in any notation canonically', async () => {
    const pair = await generateSelfSignedCertificate({
      commonName: 'v6',
      dnsNames: [],
      ipAddresses: ['0:0:0:0:0:0:0:1', 'FE80::0:1', '::ffff:192.0.2.1', '192.0.2.7'],
      validBy: new Date(Date.now() + 86_400_000),
    });
    expect(describeCertificate(pair.certificatePem).subjectAlternativeNames.ipAddresses).toEqual(['::1', 'fe80::1', '::ffff:c000:201', '192.0.2.7']);
  });

  it('refuses a validity that ends before it starts, and an address that is not one', async () => {
    await expect(generateSelfSignedCertificate({ ...identity, validFrom, validBy: validFrom })).rejects.toThrow(RangeError);
    await expect(generateSelfSignedCertificate({ ...identity, ipAddresses: ['localhost'], validBy })).rejects.toThrow(RangeError);
    await expect(generateSelfSignedCertificate({ ...identity, commonName: ' ', validBy })).rejects.toThrow(RangeError);
  });

  it('serves TLS that a client trusting the certificate accepts for each of its names', async () => {
    const pair = pairs.get('ECDSA-P256')!;
    const server: Server = createServer({ cert: pair.certificatePem, key: pair.privateKeyPem }, (socket) => socket.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const servername of ['rampart.example', 'localhost']) {
        const reply = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port, servername, ca: pair.certificatePem }, () => {
            socket.setEncoding('utf8');
            let data = '';
            socket.on('data', (chunk: string) => (data += chunk));
            socket.on('end', () => resolve(data));
          });
          socket.on('error', reject);
        });
        expect(reply).toBe('ok');
      }
    } finally {
      server.close();
    }
  });
});

describe('default server identity', () => {
  it('names the host and the loopback addresses', () => {
    const host = hostname();
    const id = defaultServerIdentity();
    expect(id.commonName).toBe(host);
    expect(id.dnsNames[0]).toBe('localhost');
    expect(id.dnsNames).toContain(host);
    expect(new Set(id.dnsNames).size).toBe(id.dnsNames.length);
    expect(id.ipAddresses).toEqual(['127.0.0.1', '::1']);
  });
});
