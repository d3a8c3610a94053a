import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/**
 * A certificate's validity period as Dates, read from the DER. Node 20's
 * X509Certificate gives only display strings ("Jan  1 00:00:00 2030 GMT";
 * `validFromDate`/`validToDate` arrived in later Node releases), and parsing
 * those relies on V8's lenient legacy date parser.
 */
export function certificateValidity(der: Uint8Array): { validFrom: Date; validBy: Date } {
  const certificate = new x509.X509Certificate(new Uint8Array(der));
  return { validFrom: certificate.notBefore, validBy: certificate.notAfter };
}
