import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import tls from 'node:tls';

export const run = promisify(execFile);

/** Opens a fresh TLS connection and returns the leaf certificate the server presented, as PEM. */
export function servedCertificatePem(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(
        `-----BEGIN CERTIFICATE-----\n${raw
          .toString('base64')
          .replace(/(.{64})/g, '$1\n')
          .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
      );
    });
    socket.on('error', reject);
  });
}

/** What `openssl x509` says about a certificate: the independent reference for our fields. */
export async function opensslFacts(pem: string) {
  const runWithInput = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile('openssl', args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end(pem);
    });
  const sha1 = (await runWithInput(['x509', '-noout', '-fingerprint', '-sha1'])).trim().split('=')[1]!;
  const sha256 = (await runWithInput(['x509', '-noout', '-fingerprint', '-sha256'])).trim().split('=')[1]!;
  const serial = (await runWithInput(['x509', '-noout', '-serial'])).trim().split('=')[1]!;
  const subject = (await runWithInput(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'])).trim().replace(/^subject=/, '');
  const issuer = (await runWithInput(['x509', '-noout', '-issuer', '-nameopt', 'RFC2253'])).trim().replace(/^issuer=/, '');
  const dates = await runWithInput(['x509', '-noout', '-dates']);
  const text = await runWithInput(['x509', '-noout', '-text']);
  const notBefore = new Date(/notBefore=(.*)/.exec(dates)![1]!);
  const notAfter = new Date(/notAfter=(.*)/.exec(dates)![1]!);
  const keyBits = Number(/Public-Key: \((\d+) bit\)/.exec(text)![1]);
  const sanLine = /X509v3 Subject Alternative Name:.*\n\s*(.*)/.exec(text)?.[1] ?? '';
  return { sha1, sha256, serial, subject, issuer, notBefore, notAfter, keyBits, text, sanLine };
}

/**
 * A self-signed EC P-256 certificate made by openssl, as an administrator makes a throw-away
 * one: written to `keyFile` and `certFile`, subject `/CN=<cn>`, subjectAltName `san` when given
 * (e.g. `DNS:localhost,IP:127.0.0.1`), valid for `days`.
 */
export async function writeSelfSignedCertificate(keyFile: string, certFile: string, options: { cn: string; san?: string; days: number }): Promise<void> {
  const san = options.san ? ['-addext', `subjectAltName=${options.san}`] : [];
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(options.days),
    '-subj',
    `/CN=${options.cn}`,
    ...san,
  ]);
}
