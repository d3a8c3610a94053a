import { openPkcs12 } from '../../pki/pkcs12.js';
import { describeCertificate } from '../../pki/describe.js';
import { CertificateInputError } from '../../pki/errors.js';
import { badRequest } from '../../http/errors.js';

/**
 * Opens an uploaded PFX for real before it is kept: a wrong password, a file
 * that is not PKCS#12 or one without a private key is a 400 that says which.
 * Returns the certificate's thumbprint (not a secret) for the record.
 */
export async function checkPfx(base64: string, password: string | undefined): Promise<{ thumbprint: string }> {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw badRequest("The certificate field is not base64: send the PFX file's bytes base64-encoded.");
  try {
    const pair = await openPkcs12(Buffer.from(compact, 'base64'), password ?? '');
    return { thumbprint: describeCertificate(pair.certificatePem).thumbprint };
  } catch (err) {
    if (err instanceof CertificateInputError) throw badRequest(`The certificate cannot be used: ${err.message}`);
    throw err;
  }
}
