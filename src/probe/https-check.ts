import { isIP } from 'node:net';
import tls from 'node:tls';
import { fingerprintMatches } from '../pki/fingerprints.js';
import { withinDeadline, type ProbeOptions } from './deadline.js';
import { ProbeError, bareHost, describeTarget } from './errors.js';
import { connectTcp } from './tcp.js';

export interface HttpsAnswer {
  /** The status line, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  statusCode: number;
  server: string | undefined;
}

/**
 * Sends one real HTTPS request (`GET /`) to a host whose certificate must match
 * the pin, on one connection: the request is written only after the
 * certificate was checked. Any HTTP status counts as "the port answers HTTPS".
 */
export function checkHttps(serverName: string, port: number, pinnedThumbprint: string, options: ProbeOptions): Promise<HttpsAnswer> {
  const host = bareHost(serverName);
  const target = describeTarget(host, port);
  return withinDeadline(host, port, options, async (signal, progress) => {
    const socket = await connectTcp(host, port, signal);
    progress.phase = 'tls';
    const secure = tls.connect({ socket, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    signal.addEventListener('abort', () => secure.destroy(), { once: true });
    try {
      return await new Promise<HttpsAnswer>((resolve, reject) => {
        let received = '';
        secure.once('secureConnect', () => {
          const der = secure.getPeerCertificate().raw;
          if (!der || !fingerprintMatches(pinnedThumbprint, der)) {
            return reject(new ProbeError('CertificateMismatch', `The certificate of ${target} changed between the checks: it no longer matches ${pinnedThumbprint}.`));
          }
          progress.phase = 'http';
          const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
          secure.write(`GET / HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: Rampart\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
        });
        secure.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          const end = received.indexOf('\r\n\r\n');
          if (end < 0 && received.length < 16_384) return;
          const head = received.slice(0, end < 0 ? received.length : end);
          const statusLine = head.split('\r\n')[0] ?? '';
          const match = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine);
          if (!match)
            return reject(new ProbeError('WrongProtocol', `${target} speaks TLS but did not answer HTTP (it sent "${statusLine.replace(/[^\x20-\x7e]/g, '?').slice(0, 60)}").`));
          resolve({ statusLine, statusCode: Number(match[1]), server: /^server:\s*(.*)$/im.exec(head)?.[1]?.trim() });
        });
        secure.once('error', (err) => reject(new ProbeError('HandshakeFailed', `The HTTPS request to ${target} failed: ${err.message}.`)));
        secure.once('close', () => reject(new ProbeError('WrongProtocol', `${target} closed the TLS connection without an HTTP answer.`)));
      });
    } finally {
      secure.destroy();
    }
  });
}
