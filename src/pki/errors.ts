/**
 * Why a certificate or key given to Rampart (an uploaded PFX, a PEM bundle,
 * a stored pair) cannot be used. The API layer maps these to 400 responses;
 * the message is written for the administrator who has to fix the input.
 *
 * Messages never contain a password, a passphrase or key material.
 */
export type CertificateInputReason =
  'NotPkcs12' | 'NotPem' | 'WrongPassword' | 'NoPrivateKey' | 'NoCertificate' | 'KeyMismatch' | 'Expired' | 'NotYetValid' | 'UnsupportedKey' | 'UnsupportedEncryption';

export class CertificateInputError extends Error {
  constructor(
    public readonly reason: CertificateInputReason,
    message: string,
  ) {
    super(message);
    this.name = 'CertificateInputError';
  }
}

/** The standard wording of each reason, so every module says the same thing. */
export const certificateInputMessages = {
  NotPkcs12: 'The file is not a PKCS#12 (.pfx/.p12) file.',
  NotPem: 'The text holds no readable PEM certificate or key.',
  WrongPassword: 'The certificate password is wrong.',
  NoPrivateKey: 'The file holds no private key; export the certificate together with its private key.',
  NoCertificate: 'The file holds no certificate.',
  KeyMismatch: 'The private key does not belong to the certificate.',
  UnsupportedKey: 'The private key type is not supported.',
  UnsupportedEncryption: 'The file is protected with an encryption algorithm that is not supported; export it again with AES-256 or TripleDES.',
} as const satisfies Partial<Record<CertificateInputReason, string>>;

/** Shorthand for throwing a reason with its standard message. */
export function inputError(reason: keyof typeof certificateInputMessages): CertificateInputError {
  return new CertificateInputError(reason, certificateInputMessages[reason]);
}

/** OpenSSL's reason text ("unsupported", "ee key too small") helps the administrator and holds no secret. */
export function openSslReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /::(.+)$/.exec(message);
  return (reason ? reason[1] : message).slice(0, 200);
}
