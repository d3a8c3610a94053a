import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { CertificateDescription } from '../pki/describe.js';
import { describeProbedCertificate } from './certificate-descriptions.js';
import { withinDeadline, type ProbeOptions } from './deadline.js';
import { ProbeError, bareHost, describeTarget } from './errors.js';
import { describePeer, recognizePeer, type PeerBanner } from './peer-banner.js';
import { connectTcp } from './tcp.js';

export interface TlsProbeResult {
  host: string;
  port: number;
  /** The leaf certificate as sent, DER. */
  der: Buffer;
  description: CertificateDescription;
  /** The chain the peer sent after the leaf, DER, in order. */
  chain: Buffer[];
  /** Chains to a CA this machine trusts and names the host: what a 1.3 client reads as `isTrusted`. */
  trusted: boolean;
  protocol: string | null;
  elapsedMs: number;
}

/** OpenSSL's words for "the bytes that came back were not TLS". */
const notTlsCodes = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNKNOWN_PROTOCOL', 'ERR_SSL_RECORD_LAYER_FAILURE']);

function chainOf(peer: tls.DetailedPeerCertificate): Buffer[] {
  const chain: Buffer[] = [];
  let current = peer.issuerCertificate;
  // The root points at itself; stop there, and never loop more than a chain could be long.
  while (current && current.raw && chain.length < 10 && !current.raw.equals(chain[chain.length - 1] ?? peer.raw)) {
    chain.push(current.raw);
    if (current.issuerCertificate === current) break;
    current = current.issuerCertificate;
  }
  return chain;
}

function handshake(socket: Socket, host: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      // SNI only for names: RFC 6066 forbids literal addresses, and some servers pick a different certificate without it.
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', (err: NodeJS.ErrnoException) => {
      secure.destroy();
      reject(err);
    });
  });
}

/** A second, plain connection after a failed handshake: what does the port say by itself, or to an HTTP request? */
async function sniffPeer(host: string, port: number, signal: AbortSignal): Promise<PeerBanner> {
  const socket = await connectTcp(host, port, signal);
  try {
    return await new Promise<PeerBanner>((resolve) => {
      let received = Buffer.alloc(0);
      const done = () => resolve(recognizePeer(received));
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 8) done();
      });
      socket.once('close', done);
      socket.once('error', done);
      // SSH servers speak first; an HTTP server only answers a request.
      setTimeout(() => {
        if (received.length === 0 && !socket.destroyed) socket.write('HEAD / HTTP/1.0\r\n\r\n');
      }, 150).unref();
      setTimeout(done, 1000).unref();
    });
  } finally {
    socket.destroy();
  }
}

async function explainFailure(err: NodeJS.ErrnoException, host: string, port: number, signal: AbortSignal): Promise<ProbeError> {
  if (err instanceof ProbeError) return err;
  const target = describeTarget(host, port);
  const looksNotTls = notTlsCodes.has(err.code ?? '') || err.code === 'ECONNRESET' || /before secure TLS connection/.test(err.message);
  if (looksNotTls) {
    const peer = await sniffPeer(host, port, signal).catch(() => undefined);
    if (peer && peer.protocol !== 'tls') {
      const hint = peer.protocol === 'ssh' ? ' For a Linux host, use type LinuxHost.' : ' Check the port number.';
      return new ProbeError('WrongProtocol', `${target} does not speak TLS: it is ${describePeer(peer)}.${hint}`);
    }
  }
  const reason = (err.message || String(err.code)).replace(/^.*routines:/, '');
  return new ProbeError('HandshakeFailed', `The TLS handshake with ${target} failed: ${reason}.`);
}

/**
 * Opens a TLS connection to host:port and reads the certificate it presents.
 * Nothing is verified here: probing is how an administrator learns what to pin.
 */
export function probeTlsCertificate(serverName: string, port: number, options: ProbeOptions): Promise<TlsProbeResult> {
  const host = bareHost(serverName);
  const started = performance.now();
  return withinDeadline(host, port, options, async (signal, progress) => {
    const socket = await connectTcp(host, port, signal);
    progress.phase = 'tls';
    let secure: tls.TLSSocket;
    try {
      secure = await handshake(socket, host);
    } catch (err) {
      socket.destroy();
      throw await explainFailure(err as NodeJS.ErrnoException, host, port, signal);
    }
    try {
      const peer = secure.getPeerCertificate(true);
      if (!peer || !peer.raw) throw new ProbeError('HandshakeFailed', `${describeTarget(host, port)} completed the TLS handshake without presenting a certificate.`);
      const identityError = tls.checkServerIdentity(host, peer);
      return {
        host,
        port,
        der: peer.raw,
        description: describeProbedCertificate(peer.raw),
        chain: chainOf(peer),
        trusted: secure.authorized && identityError === undefined,
        protocol: secure.getProtocol(),
        elapsedMs: performance.now() - started,
      };
    } finally {
      secure.destroy();
    }
  });
}
