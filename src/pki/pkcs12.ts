import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { assemblePair } from './assemble-pair.js';
import type { CertificateKeyPair } from './certificate-key-pair.js';
import { CertificateInputError, inputError, openSslReason } from './errors.js';
import { decryptWithPassword, verifyPkcs12Mac } from './pkcs12-password-crypto.js';

/**
 * Opens a PKCS#12 (.pfx/.p12) file, the format of
 * `POST /api/v1/settings/certificates/upload`, into a serving pair.
 *
 * pkijs reads the structure (PFX, AuthenticatedSafe, SafeContents, bags);
 * pkcs12-password-crypto.ts checks the MAC and decrypts; Node's OpenSSL
 * reads the resulting certificates and PKCS#8 keys. Async because the
 * MAC and PBES2 work goes through WebCrypto.
 */

const oids = {
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
} as const;

interface Found {
  certificates: X509Certificate[];
  privateKeys: KeyObject[];
}

interface Context {
  password: string;
  /** After a good MAC the password is known right, so unreadable plaintext means a damaged file, not a wrong password. */
  passwordConfirmed: boolean;
}

export async function openPkcs12(file: Uint8Array, password: string): Promise<CertificateKeyPair> {
  const pfx = parsePfx(file);
  if (pfx.authSafe.contentType !== pkijs.ContentInfo.DATA) {
    // Public-key integrity mode (SignedData): nobody exports server certificates that way.
    throw inputError('UnsupportedEncryption');
  }
  const authenticatedSafeDer = octetStringValue(pfx.authSafe.content);
  const context: Context = { password, passwordConfirmed: false };
  if (pfx.macData !== undefined) {
    await verifyPkcs12Mac(pfx.macData, authenticatedSafeDer, password);
    context.passwordConfirmed = true;
  }
  const authenticatedSafe = parseOrNotPkcs12(() => pkijs.AuthenticatedSafe.fromBER(authenticatedSafeDer));
  const found: Found = { certificates: [], privateKeys: [] };
  for (const contentInfo of authenticatedSafe.safeContents) {
    const safeContents = await openContentInfo(contentInfo, context);
    await collectBags(safeContents.safeBags, context, found);
  }
  return assemblePair(found.certificates, found.privateKeys);
}

function parsePfx(file: Uint8Array): pkijs.PFX {
  // Every PFX is a DER SEQUENCE; checking the first byte spares asn1js a PEM or text file.
  if (file.length < 2 || file[0] !== 0x30) throw inputError('NotPkcs12');
  const pfx = parseOrNotPkcs12(() => pkijs.PFX.fromBER(toArrayBuffer(file)));
  if (pfx.version !== 3) throw inputError('NotPkcs12');
  return pfx;
}

function parseOrNotPkcs12<T>(parse: () => T): T {
  try {
    return parse();
  } catch {
    throw inputError('NotPkcs12');
  }
}

async function openContentInfo(contentInfo: pkijs.ContentInfo, context: Context): Promise<pkijs.SafeContents> {
  switch (contentInfo.contentType) {
    case pkijs.ContentInfo.DATA:
      return parseOrNotPkcs12(() => pkijs.SafeContents.fromBER(octetStringValue(contentInfo.content)));
    case pkijs.ContentInfo.ENCRYPTED_DATA: {
      const encrypted = parseOrNotPkcs12(() => new pkijs.EncryptedData({ schema: contentInfo.content }));
      const plaintext = await decryptWithPassword(encrypted.encryptedContentInfo, context.password);
      return parseDecrypted(() => pkijs.SafeContents.fromBER(toArrayBuffer(plaintext)), context);
    }
    default:
      // EnvelopedData: public-key privacy mode, not used for server certificates.
      throw inputError('UnsupportedEncryption');
  }
}

/**
 * Without a MAC a wrong password can still yield valid-looking padding
 * (about 1 time in 256); the garbage then fails to parse, and that is the
 * password's fault, not the file's.
 */
function parseDecrypted<T>(parse: () => T, context: Context): T {
  try {
    return parse();
  } catch {
    throw inputError(context.passwordConfirmed ? 'NotPkcs12' : 'WrongPassword');
  }
}

async function collectBags(bags: readonly pkijs.SafeBag[], context: Context, found: Found): Promise<void> {
  for (const bag of bags) {
    switch (bag.bagId) {
      case oids.keyBag:
        found.privateKeys.push(readPrivateKey(Buffer.from((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER(false)), context));
        break;
      case oids.shroudedKeyBag: {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        const info = new pkijs.EncryptedContentInfo({
          contentType: pkijs.ContentInfo.DATA,
          contentEncryptionAlgorithm: shrouded.encryptionAlgorithm,
          encryptedContent: shrouded.encryptedData,
        });
        found.privateKeys.push(readPrivateKey(await decryptWithPassword(info, context.password), context));
        break;
      }
      case oids.certBag: {
        const certBag = bag.bagValue as pkijs.CertBag;
        if (certBag.certId !== oids.x509Certificate) break; // SDSI and attribute certificates serve no TLS purpose.
        found.certificates.push(readCertificate(octetStringValue(certBag.certValue)));
        break;
      }
      case oids.safeContentsBag:
        await collectBags((bag.bagValue as pkijs.SafeContents).safeBags, context, found);
        break;
      default:
        // CRL and secret bags carry nothing a serving pair needs.
        break;
    }
  }
}

function readPrivateKey(pkcs8Der: Buffer, context: Context): KeyObject {
  try {
    return createPrivateKey({ key: pkcs8Der, format: 'der', type: 'pkcs8' });
  } catch (error) {
    if (!context.passwordConfirmed && !looksLikePrivateKeyInfo(pkcs8Der)) throw inputError('WrongPassword');
    throw new CertificateInputError('UnsupportedKey', `The private key in the file cannot be used (${openSslReason(error)}).`);
  }
}

/** PrivateKeyInfo starts `SEQUENCE { INTEGER 0, SEQUENCE {...` : 30 .. 02 01 00 30. */
function looksLikePrivateKeyInfo(der: Buffer): boolean {
  if (der[0] !== 0x30) return false;
  const lengthBytes = der[1] & 0x80 ? 1 + (der[1] & 0x7f) : 1;
  const body = 1 + lengthBytes;
  return der[body] === 0x02 && der[body + 1] === 0x01 && der[body + 2] === 0x00 && der[body + 3] === 0x30;
}

function readCertificate(der: ArrayBuffer): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch {
    throw new CertificateInputError('NotPkcs12', 'A certificate in the file cannot be read.');
  }
}

interface OctetStringLike {
  getValue(): ArrayBuffer;
}

function octetStringValue(value: unknown): ArrayBuffer {
  if (typeof value === 'object' && value !== null && typeof (value as OctetStringLike).getValue === 'function') {
    return (value as OctetStringLike).getValue();
  }
  throw inputError('NotPkcs12');
}

function toArrayBuffer(view: Uint8Array): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}
