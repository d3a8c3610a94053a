import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { defaultKeyAlgorithm, type KeyAlgorithmName } from './key-algorithms.js';

/**
 * Self-signed server certificates: the one Rampart makes on first start and
 * on `POST /api/v1/settings/certificates/regenerate`.
 */

export interface SelfSignedCertificateOptions {
  keyAlgorithm?: KeyAlgorithmName;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** Defaults to five minutes ago, so clients whose clock runs a little behind accept it at once. */
  validFrom?: Date;
  validBy: Date;
}

export interface ServerIdentity {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

const clockSkewAllowanceMs = 5 * 60 * 1000;
const serverAuthOid = '1.3.6.1.5.5.7.3.1';
const generateKeyPairAsync = promisify(generateKeyPair);
const subtle = webcrypto.subtle as SubtleCrypto;

/** The names a freshly installed server answers to: its host name, localhost and the loopback addresses. */
export function defaultServerIdentity(): ServerIdentity {
  const host = hostname().trim();
  const dnsNames = ['localhost'];
  if (host !== '' && host.toLowerCase() !== 'localhost') dnsNames.push(host);
  return { commonName: host === '' ? 'localhost' : host, dnsNames, ipAddresses: ['127.0.0.1', '::1'] };
}

interface SigningKeys {
  keys: CryptoKeyPair;
  signingAlgorithm: Algorithm | EcdsaParams;
  isRsa: boolean;
}

async function createKeys(algorithm: KeyAlgorithmName): Promise<SigningKeys> {
  switch (algorithm) {
    case 'ECDSA-P256':
    case 'ECDSA-P384': {
      // WebCrypto EC generation is a few milliseconds and runs off the event loop.
      const namedCurve = algorithm === 'ECDSA-P256' ? 'P-256' : 'P-384';
      const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
      const hash = algorithm === 'ECDSA-P256' ? 'SHA-256' : 'SHA-384';
      return { keys, signingAlgorithm: { name: 'ECDSA', hash }, isRsa: false };
    }
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096': {
      // RSA prime search takes from tens of milliseconds to seconds: Node's
      // async generateKeyPair runs it on the thread pool, then WebCrypto
      // imports the result for @peculiar/x509 to sign with.
      const modulusLength = Number(algorithm.slice('RSA-'.length));
      const pair = await generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
      const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      const keys: CryptoKeyPair = {
        privateKey: await subtle.importKey('pkcs8', pair.privateKey.export({ type: 'pkcs8', format: 'der' }), rsa, true, ['sign']),
        publicKey: await subtle.importKey('spki', pair.publicKey.export({ type: 'spki', format: 'der' }), rsa, true, ['verify']),
      };
      return { keys, signingAlgorithm: rsa, isRsa: true };
    }
  }
}

/** 16 random bytes with the top bit clear (so the INTEGER is positive) and the top byte non-zero (so DER keeps all 16). */
function randomSerialNumberHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** X.509 keeps whole seconds; truncating here makes the certificate say exactly what the caller asked for. */
function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * The canonical text of an IP address (IPv6 compressed, lowercase, embedded
 * IPv4 written as hex). @peculiar/x509 parses only plain hex IPv6, so
 * anything else is rewritten first; the URL parser is the standard's own
 * canonicaliser, which saves writing one here.
 */
function canonicalIp(address: string): string {
  const version = isIP(address);
  if (version === 4) return address;
  if (version === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  throw new RangeError(`Not an IP address: ${JSON.stringify(address)}`);
}

export async function generateSelfSignedCertificate(opts: SelfSignedCertificateOptions): Promise<CertificateKeyPair> {
  const algorithm = opts.keyAlgorithm ?? defaultKeyAlgorithm;
  const notBefore = wholeSeconds(opts.validFrom ?? new Date(Date.now() - clockSkewAllowanceMs));
  const notAfter = wholeSeconds(opts.validBy);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new RangeError('The certificate must be valid by a date after it becomes valid.');
  }
  if (opts.commonName.trim() === '') throw new RangeError('The certificate needs a common name.');
  const ipAddresses = opts.ipAddresses.map(canonicalIp);
  const { keys, signingAlgorithm, isRsa } = await createKeys(algorithm);

  const usages = isRsa ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  const alternativeNames = [...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension([serverAuthOid], false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto as Crypto),
  ];
  if (alternativeNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(alternativeNames, false));

  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumberHex(),
      // The JSON form of the name, not the `CN=...` string form, so a common
      // name holding a comma or a plus stays one value.
      name: [{ CN: [opts.commonName] }],
      notBefore,
      notAfter,
      signingAlgorithm,
      keys,
      extensions,
    },
    webcrypto as Crypto,
  );
  return {
    certificatePem: ensureTrailingNewline(certificate.toString('pem')),
    privateKeyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
