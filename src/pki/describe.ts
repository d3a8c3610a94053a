import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { CertificateInputError } from './errors.js';
import { sha1ColonHex, sha1Thumbprint, sha256Base64, sha256ColonHex, sha256Hex } from './fingerprints.js';
import { certificateDers } from './pem-text.js';

/**
 * What Rampart tells about a certificate: the Veeam `CertificateModel`
 * fields (thumbprint, serialNumber, keyAlgorithm, keySize, subject,
 * issuedTo, issuedBy, validFrom, validBy) plus the fingerprints and names
 * the web UI and host pinning need.
 *
 * Node's X509Certificate reads most of it; @peculiar/x509 supplies what
 * Node 20 gives only as display strings (the validity dates, the raw
 * alternative names and attribute values).
 */
export interface CertificateDescription {
  /** SHA-1 of the DER, 40 uppercase hex digits, no separators (as Windows shows it). */
  thumbprint: string;
  /** Uppercase hex, exactly as `openssl x509 -serial` prints it (no sign byte). */
  serialNumber: string;
  /**
   * Uppercase hex of the INTEGER's DER content bytes, sign byte included
   * (`00CE24...` where `serialNumber` says `CE24...`): what .NET's
   * `X509Certificate2.SerialNumber`, and so Veeam's own example, shows.
   */
  serialNumberAsEncoded: string;
  /** `RSA-PKCS1-KeyEx` (as Veeam names RSA), `ECDSA_P256`, `ECDSA_P384`, `ECDSA_P521`, `Ed25519`... */
  keyAlgorithm: string;
  /** Key length in bits, as a string, as the Veeam models carry it. */
  keySize: string;
  /** `C=US, O=Acme\, Inc., CN=host`: certificate order, RFC 4514 escaping, `+` between values of one RDN. */
  subject: string;
  /** The subject's common name, or the whole subject when it has none. */
  issuedTo: string;
  /** The issuer's common name, or the whole issuer when it has none. */
  issuedBy: string;
  issuer: string;
  validFrom: Date;
  validBy: Date;
  sha1Fingerprint: string;
  sha256Fingerprint: string;
  sha256Hex: string;
  /** Unpadded base64 of the SHA-256 of the DER. */
  sha256Base64: string;
  subjectAlternativeNames: { dnsNames: string[]; ipAddresses: string[] };
  keyBits: number;
  keyType: 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | string;
  /** Issued by itself: the issuer is the subject and its own key verifies the signature. */
  selfSigned: boolean;
  /** basicConstraints says cA=TRUE. */
  isCertificateAuthority: boolean;
}

const ecCurves: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'ECDSA_P256', bits: 256 },
  secp384r1: { name: 'ECDSA_P384', bits: 384 },
  secp521r1: { name: 'ECDSA_P521', bits: 521 },
};

interface KeyFacts {
  keyAlgorithm: string;
  keyType: string;
  keyBits: number;
}

function describeKey(certificate: X509Certificate): KeyFacts {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { keyAlgorithm: 'RSA-PKCS1-KeyEx', keyType: 'RSA', keyBits: details.modulusLength ?? 0 };
    case 'rsa-pss':
      return { keyAlgorithm: 'RSA-PSS', keyType: 'RSA-PSS', keyBits: details.modulusLength ?? 0 };
    case 'ec': {
      const curveName = details.namedCurve ?? 'unknown';
      const curve = ecCurves[curveName];
      return curve ? { keyAlgorithm: curve.name, keyType: 'EC', keyBits: curve.bits } : { keyAlgorithm: `ECDSA_${curveName}`, keyType: 'EC', keyBits: 0 };
    }
    case 'ed25519':
      return { keyAlgorithm: 'Ed25519', keyType: 'Ed25519', keyBits: 256 };
    case 'ed448':
      return { keyAlgorithm: 'Ed448', keyType: 'Ed448', keyBits: 448 };
    default: {
      const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
      return { keyAlgorithm: type, keyType: type, keyBits: details.modulusLength ?? 0 };
    }
  }
}

/**
 * Node 20 prints a name one RDN a line, values escaped RFC 2253 style and
 * control characters (a newline included) as `\0A`: so the only raw
 * newlines are the separators, and joining the lines gives the one-line
 * form, same as `openssl x509 -nameopt esc_2253,esc_ctrl,utf8,sep_comma_plus_space,sname`.
 */
function oneLineName(multiline: string): string {
  return multiline.split('\n').join(', ');
}

/** The last (most specific) common name, raw; the whole name when there is none. */
function commonNameOr(name: x509.Name, whole: string): string {
  const commonNames = name.getField('CN');
  return commonNames.length > 0 ? commonNames[commonNames.length - 1] : whole;
}

function alternativeNames(certificate: x509.X509Certificate): { dnsNames: string[]; ipAddresses: string[] } {
  const extension = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const name of extension?.names.items ?? []) {
    if (name.type === 'dns') dnsNames.push(name.value);
    // @peculiar/x509 already prints IPv6 compressed (RFC 5952 style), unlike Node's `0:0:...:1`.
    if (name.type === 'ip') ipAddresses.push(name.value);
  }
  return { dnsNames, ipAddresses };
}

/**
 * The serial INTEGER's content bytes as hex. pkijs keeps them as encoded,
 * where Node and @peculiar/x509 both drop the sign byte.
 */
function serialNumberContent(der: Uint8Array, magnitudeHex: string): string {
  try {
    const certificate = pkijs.Certificate.fromBER(new Uint8Array(der));
    return Buffer.from(certificate.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase();
  } catch {
    // What a minimal DER encoding of a positive serial holds.
    return /^[89A-F]/i.test(magnitudeHex) ? `00${magnitudeHex}` : magnitudeHex;
  }
}

/**
 * Not `checkIssued(itself)`: OpenSSL's issuer check also wants keyCertSign
 * in the issuer's key usage, which a self-signed server certificate (key
 * usage digitalSignature only) rightly lacks.
 */
function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
}

/** Describes the first (leaf) certificate of a PEM text. */
export function describeCertificate(certificatePem: string): CertificateDescription {
  const [leaf] = certificateDers(certificatePem);
  if (leaf === undefined) throw new CertificateInputError('NoCertificate', 'The text holds no PEM certificate.');
  return describeCertificateDer(leaf);
}

export function describeCertificateDer(der: Uint8Array): CertificateDescription {
  let node: X509Certificate;
  let peculiar: x509.X509Certificate;
  try {
    node = new X509Certificate(der);
    peculiar = new x509.X509Certificate(new Uint8Array(der));
  } catch {
    throw new CertificateInputError('NotPem', 'The certificate cannot be read.');
  }
  const subject = oneLineName(node.subject);
  const issuer = oneLineName(node.issuer);
  const key = describeKey(node);
  const serialNumber = node.serialNumber.toUpperCase();
  return {
    thumbprint: sha1Thumbprint(der),
    serialNumber,
    serialNumberAsEncoded: serialNumberContent(der, serialNumber),
    keyAlgorithm: key.keyAlgorithm,
    keySize: String(key.keyBits),
    subject,
    issuedTo: commonNameOr(peculiar.subjectName, subject),
    issuedBy: commonNameOr(peculiar.issuerName, issuer),
    issuer,
    validFrom: peculiar.notBefore,
    validBy: peculiar.notAfter,
    sha1Fingerprint: sha1ColonHex(der),
    sha256Fingerprint: sha256ColonHex(der),
    sha256Hex: sha256Hex(der),
    sha256Base64: sha256Base64(der),
    subjectAlternativeNames: alternativeNames(peculiar),
    keyBits: key.keyBits,
    keyType: key.keyType,
    selfSigned: isSelfSigned(node),
    isCertificateAuthority: node.ca,
  };
}
