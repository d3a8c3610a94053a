import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { writeSelfSignedCertificate } from './tls.js';

/** One message as the SMTP server took it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** Who authenticated, when someone did. */
  user?: string;
  /** Whether the message came over TLS (after STARTTLS). */
  secure: boolean;
  raw: string;
}

export interface SmtpServer {
  port: number;
  /** The server's throw-away certificate (PEM file): what Rampart is told to trust (RAMPART_SMTP_CA_FILE). */
  cert: string;
  received: ReceivedMail[];
  /** Every authentication attempt and whether it matched the credentials. */
  auths: { user: string; ok: boolean }[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on a loopback port: STARTTLS with a throw-away certificate (written to
 * `<dir>/smtp.crt`, its key beside it); with `credentials`, PLAIN/LOGIN authentication checked against them
 * (never over plain text), otherwise none offered.
 */
export async function startSmtpServer(dir: string, options: { credentials?: { username: string; password: string } } = {}): Promise<SmtpServer> {
  const key = path.join(dir, 'smtp.key');
  const cert = path.join(dir, 'smtp.crt');
  await writeSelfSignedCertificate(key, cert, { cn: '127.0.0.1', san: 'IP:127.0.0.1', days: 2 });
  const received: ReceivedMail[] = [];
  const auths: { user: string; ok: boolean }[] = [];
  const { credentials } = options;
  const server = new SMTPServer({
    key: await readFile(key),
    cert: await readFile(cert),
    authOptional: true,
    allowInsecureAuth: false,
    logger: false,
    ...(credentials
      ? {
          onAuth(auth, _session, callback) {
            const ok = auth.username === credentials.username && auth.password === credentials.password;
            auths.push({ user: auth.username ?? '', ok });
            if (ok) callback(null, { user: auth.username });
            else callback(new Error('Invalid username or password'));
          },
        }
      : {}),
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
          raw: Buffer.concat(parts).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, cert, received, auths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
