import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  colonHex,
  fingerprintMatches,
  normalizeFingerprint,
  opensshSha256Fingerprint,
  sha1ColonHex,
  sha1Thumbprint,
  sha256Base64,
  sha256ColonHex,
  sha256Hex,
} from '../../src/pki/fingerprints.js';
import { certificateDers } from '../../src/pki/pem-text.js';
import { afterEquals, makeWorkdir, type Workdir } from './openssl.js';

let dir: Workdir;
let der: Buffer;
let sha1: string; // AA:BB:... from openssl
let sha256: string;
let md5: string;

beforeAll(async () => {
  dir = await makeWorkdir();
  await dir.openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=fp');
  der = certificateDers(await dir.readText('c.pem'))[0];
  sha1 = afterEquals(await dir.openssl('x509', '-in', 'c.pem', '-noout', '-fingerprint', '-sha1'));
  sha256 = afterEquals(await dir.openssl('x509', '-in', 'c.pem', '-noout', '-fingerprint', '-sha256'));
  md5 = afterEquals(await dir.openssl('x509', '-in', 'c.pem', '-noout', '-fingerprint', '-md5'));
});

afterAll(() => dir.remove());

describe('printing fingerprints', () => {
  it('matches openssl in every printed form', () => {
    expect(sha1ColonHex(der)).toBe(sha1);
    expect(sha1Thumbprint(der)).toBe(sha1.replace(/:/g, ''));
    expect(sha256ColonHex(der)).toBe(sha256);
    expect(sha256Hex(der)).toBe(sha256.replace(/:/g, '').toLowerCase());
    const base64 = Buffer.from(sha256.replace(/:/g, ''), 'hex').toString('base64');
    expect(sha256Base64(der)).toBe(base64.replace(/=$/, ''));
    expect(opensshSha256Fingerprint(der)).toBe(`SHA256:${base64.replace(/=$/, '')}`);
    expect(colonHex(Buffer.from([0x0a]))).toBe('0A');
  });
});

describe('reading fingerprints', () => {
  it('accepts SHA-256 in every form people paste', () => {
    const bytes = Buffer.from(sha256.replace(/:/g, ''), 'hex');
    const base64 = bytes.toString('base64');
    const forms = [
      `SHA256:${base64.replace(/=$/, '')}`,
      `SHA256:${base64}`,
      `sha256:${base64}`,
      `SHA-256:${sha256}`,
      base64,
      base64.replace(/=$/, ''),
      base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''),
      sha256,
      sha256.toLowerCase(),
      sha256.replace(/:/g, ''),
      sha256.replace(/:/g, '').toLowerCase(),
      sha256.replace(/:/g, ' '),
      `  ${sha256}\n`,
    ];
    for (const form of forms) {
      expect(normalizeFingerprint(form), form).toEqual({ algorithm: 'SHA256', bytes });
      expect(fingerprintMatches(form, der), form).toBe(true);
    }
  });

  it('accepts SHA-1 and MD5 as hex, bare or prefixed', () => {
    for (const form of [sha1, sha1.replace(/:/g, ''), sha1.toLowerCase(), `SHA1:${sha1}`, sha1.replace(/:/g, ' ')]) {
      expect(normalizeFingerprint(form)?.algorithm, form).toBe('SHA1');
      expect(fingerprintMatches(form, der), form).toBe(true);
    }
    for (const form of [md5, md5.replace(/:/g, '').toLowerCase(), `MD5:${md5.toLowerCase()}`]) {
      expect(normalizeFingerprint(form)?.algorithm, form).toBe('MD5');
      expect(fingerprintMatches(form, der), form).toBe(true);
    }
  });

  it('rejects what is no fingerprint, or has the wrong length for its algorithm', () => {
    const notFingerprints = [
      '',
      'hello world',
      'SHA256:',
      `SHA256:${sha1}`, // 20 bytes under a SHA-256 label
      `MD5:${sha256}`,
      sha256.slice(0, -3), // one byte short
      'AB:CD:EF',
      'A:BC:DE', // not pairs
      'SHA512:abcd',
      Buffer.alloc(31).toString('base64'),
      'zz'.repeat(32),
    ];
    for (const text of notFingerprints) {
      expect(normalizeFingerprint(text), text).toBeNull();
      expect(fingerprintMatches(text, der), text).toBe(false);
    }
  });

  it('does not match other material', () => {
    const other = Buffer.from(der);
    other[other.length - 1] ^= 1;
    for (const form of [sha256, sha1, md5]) expect(fingerprintMatches(form, other)).toBe(false);
  });

  const sshKeygen = '/usr/bin/ssh-keygen';
  it.skipIf(!existsSync(sshKeygen))('matches an SSH host key blob the way ssh-keygen prints it', async () => {
    const run = promisify(execFile);
    await run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', dir.file('host_key')]);
    const publicKey = await dir.readText('host_key.pub');
    const blob = Buffer.from(publicKey.split(' ')[1], 'base64');
    const sha256Line = (await run(sshKeygen, ['-l', '-f', dir.file('host_key.pub')])).stdout;
    const md5Line = (await run(sshKeygen, ['-l', '-E', 'md5', '-f', dir.file('host_key.pub')])).stdout;
    const sshSha256 = sha256Line.split(' ')[1];
    const sshMd5 = md5Line.split(' ')[1];
    expect(opensshSha256Fingerprint(blob)).toBe(sshSha256);
    expect(fingerprintMatches(sshSha256, blob)).toBe(true);
    expect(fingerprintMatches(sshMd5, blob)).toBe(true);
    expect(fingerprintMatches(sshSha256, der)).toBe(false);
  });
});
