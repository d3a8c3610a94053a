import { webcrypto } from 'node:crypto';
import type forge from 'node-forge';

/** node-forge is only needed for legacy files: loaded on first use, not at every start (it is a few MB resident). */
const loadForge = async (): Promise<typeof forge> => (await import('node-forge')).default;
import * as pkijs from 'pkijs';
import { CertificateInputError, inputError } from './errors.js';

/**
 * The password cryptography of PKCS#12 files, split between two libraries
 * by algorithm family:
 *
 * - pkijs verifies the integrity MAC (HMAC keyed by the RFC 7292 appendix B
 *   KDF, SHA-1 to SHA-512) and decrypts PBES2 (PBKDF2 + AES-CBC), which is
 *   what OpenSSL 3 writes by default and Windows writes with "AES256-SHA256".
 *   Its PBKDF2 and AES run in WebCrypto, natively and off the event loop.
 * - node-forge decrypts the legacy RFC 7292 appendix C schemes,
 *   pbeWithSHAAnd3-KeyTripleDES-CBC and pbeWithSHAAnd40BitRC2-CBC, which
 *   `openssl pkcs12 -legacy`, older OpenSSL and Windows "TripleDES-SHA1"
 *   write. pkijs decrypts PBES2 only. Node cannot fill the gap either: it
 *   exposes neither the PKCS#12 KDF nor RC2, which OpenSSL 3 keeps in its
 *   legacy provider, not loaded by Node by default.
 *
 * Passwords follow OpenSSL 3: UTF-8 bytes for PBKDF2, UTF-16BE plus two
 * zero bytes for the PKCS#12 KDF (both libraries do the latter themselves).
 */

const pbes2Oid = '1.2.840.113549.1.5.13';
const pkcs12PbeOids: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.12.1.3', // pbeWithSHAAnd3-KeyTripleDES-CBC
  '1.2.840.113549.1.12.1.6', // pbeWithSHAAnd40BitRC2-CBC
]);
const macHashNames: ReadonlySet<string> = new Set(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']);

/**
 * The PKCS#12 KDF runs in JavaScript on the event loop (in both libraries),
 * so a file asking for millions of iterations would stall the server.
 * Real files use 2,000 (Windows), 2,048 (OpenSSL) or 10,000 (Java).
 */
export const maxPkcs12KdfIterations = 1_000_000;
/** PBKDF2 runs natively off the event loop; this bound only stops absurd values. */
export const maxPbkdf2Iterations = 10_000_000;

const engine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as Crypto });

function utf8(password: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(password);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function toArrayBuffer(view: Uint8Array): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

function tooManyIterations(count: number): CertificateInputError {
  return new CertificateInputError(
    'UnsupportedEncryption',
    `The file asks for ${count} key-derivation iterations, more than the ${maxPkcs12KdfIterations} supported; export it again with the default settings.`,
  );
}

/**
 * Checks the password against the file's integrity MAC. A mismatch is
 * reported as a wrong password: with a sound file that is the only cause.
 */
export async function verifyPkcs12Mac(macData: pkijs.MacData, authenticatedSafe: ArrayBuffer, password: string): Promise<void> {
  const hash = engine.getAlgorithmByOID(macData.mac.digestAlgorithm.algorithmId, false);
  const hashName = 'name' in hash && typeof hash.name === 'string' ? hash.name : '';
  if (!macHashNames.has(hashName)) throw inputError('UnsupportedEncryption');
  const iterationCount = macData.iterations ?? 1;
  if (iterationCount > maxPkcs12KdfIterations) throw tooManyIterations(iterationCount);
  const valid = await engine.verifyDataStampedWithPassword({
    password: utf8(password),
    hashAlgorithm: hashName,
    salt: toArrayBuffer(macData.macSalt.valueBlock.valueHexView),
    iterationCount,
    contentToVerify: authenticatedSafe,
    signatureToVerify: toArrayBuffer(macData.mac.digest.valueBlock.valueHexView),
  });
  if (!valid) throw inputError('WrongPassword');
}

/**
 * Decrypts a password-protected piece of a PKCS#12 file: an EncryptedData
 * content (usually the certificates) or a shrouded key bag (the key).
 * Returns the plaintext DER.
 */
export async function decryptWithPassword(info: pkijs.EncryptedContentInfo, password: string): Promise<Buffer> {
  const algorithm = info.contentEncryptionAlgorithm;
  if (algorithm.algorithmId === pbes2Oid) return decryptPbes2(info, password);
  if (pkcs12PbeOids.has(algorithm.algorithmId)) {
    const parameters = algorithm.algorithmParams as { toBER(sizeOnly?: boolean): ArrayBuffer } | undefined;
    if (parameters === undefined) throw inputError('NotPkcs12');
    return decryptPkcs12Pbe(algorithm.algorithmId, Buffer.from(parameters.toBER(false)), Buffer.from(info.getEncryptedContent()), password);
  }
  throw inputError('UnsupportedEncryption');
}

async function decryptPbes2(info: pkijs.EncryptedContentInfo, password: string): Promise<Buffer> {
  let iterationCount: number;
  try {
    const scheme = new pkijs.PBES2Params({ schema: info.contentEncryptionAlgorithm.algorithmParams });
    iterationCount = new pkijs.PBKDF2Params({ schema: scheme.keyDerivationFunc.algorithmParams }).iterationCount;
    // pkijs looks the cipher up in WebCrypto's list: AES-CBC and AES-GCM. PBES2 with 3DES or RC2 is not there.
    const cipher = engine.getAlgorithmByOID(scheme.encryptionScheme.algorithmId, false);
    if (!('name' in cipher)) throw inputError('UnsupportedEncryption');
  } catch (error) {
    if (error instanceof CertificateInputError) throw error;
    throw inputError('NotPkcs12');
  }
  if (iterationCount > maxPbkdf2Iterations) throw tooManyIterations(iterationCount);
  try {
    return Buffer.from(await engine.decryptEncryptedContentInfo({ password: utf8(password), encryptedContentInfo: info }));
  } catch {
    // WebCrypto reports bad CBC padding, the sign of a wrong key, as a plain OperationError.
    throw inputError('WrongPassword');
  }
}

/** The slice of node-forge's PBE module that @types/node-forge does not declare. */
interface ForgeDecipher {
  update(input: forge.util.ByteStringBuffer): void;
  finish(): boolean;
  output: forge.util.ByteStringBuffer;
}
interface ForgePbe {
  getCipherForPKCS12PBE(oid: string, params: forge.asn1.Asn1, password: string): ForgeDecipher;
}
async function decryptPkcs12Pbe(oid: string, parametersDer: Buffer, ciphertext: Buffer, password: string): Promise<Buffer> {
  const forge = await loadForge();
  const forgePbe = (forge.pki as unknown as { pbe: ForgePbe }).pbe;
  let parameters: forge.asn1.Asn1;
  try {
    parameters = forge.asn1.fromDer(forge.util.createBuffer(parametersDer.toString('binary')));
  } catch {
    throw inputError('NotPkcs12');
  }
  const iterationCount = pbeIterationCount(forge, parameters);
  if (iterationCount > maxPkcs12KdfIterations) throw tooManyIterations(iterationCount);
  let decipher: ForgeDecipher;
  try {
    decipher = forgePbe.getCipherForPKCS12PBE(oid, parameters, password);
  } catch {
    throw inputError('NotPkcs12');
  }
  decipher.update(forge.util.createBuffer(ciphertext.toString('binary')));
  // finish() checks the PKCS#5 padding, which a wrong key breaks (almost always).
  if (!decipher.finish()) throw inputError('WrongPassword');
  return Buffer.from(decipher.output.getBytes(), 'binary');
}

/** `pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }` */
function pbeIterationCount(forge: typeof import('node-forge'), parameters: forge.asn1.Asn1): number {
  const fields = Array.isArray(parameters.value) ? parameters.value : [];
  const iterations = fields[1];
  if (iterations === undefined || typeof iterations.value !== 'string') throw inputError('NotPkcs12');
  return parseInt(forge.util.bytesToHex(iterations.value), 16);
}
