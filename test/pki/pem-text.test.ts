import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateDers, certificatesToPem, derToPem, pemBlocks } from '../../src/pki/pem-text.js';

describe('PEM text', () => {
  it('writes 64-character lines and a final newline, and reads them back', () => {
    const der = randomBytes(200);
    const pem = derToPem('CERTIFICATE', der);
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.slice(1, -2).every((line) => line.length <= 64)).toBe(true);
    expect(lines[1].length).toBe(64);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(certificateDers(pem)).toEqual([der]);
  });

  it('keeps order, skips text between blocks and blocks that are not base64', () => {
    const a = randomBytes(40);
    const b = randomBytes(41);
    const text = `Bag Attributes\n    localKeyId: 01\n${certificatesToPem([a])}junk\n-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n${derToPem('PRIVATE KEY', b)}`;
    const blocks = pemBlocks(text);
    expect(blocks.map((block) => block.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY']);
    expect(blocks[0].der).toEqual(a);
    expect(blocks[1].der).toEqual(b);
  });

  it('reads past RFC 1421 headers of old encrypted keys, keeping them in the block text', () => {
    const body = randomBytes(30);
    const block = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n${body.toString('base64')}\n-----END RSA PRIVATE KEY-----`;
    const [read] = pemBlocks(block);
    expect(read.der).toEqual(body);
    expect(read.text).toContain('DEK-Info');
  });
});
