/**
 * Names what a port speaks from the first bytes it sent, so a failed TLS or
 * SSH handshake can say "that is a plain HTTP server" instead of quoting OpenSSL.
 */
export type PeerProtocol = 'ssh' | 'http' | 'tls' | 'unknown' | 'silent';

export interface PeerBanner {
  protocol: PeerProtocol;
  /** The first line, printable characters only, short: safe to show. */
  firstLine: string;
}

export function recognizePeer(bytes: Buffer): PeerBanner {
  if (bytes.length === 0) return { protocol: 'silent', firstLine: '' };
  // TLS records start with a content type (0x15 alert, 0x16 handshake) and version 3.x.
  if ((bytes[0] === 0x15 || bytes[0] === 0x16) && bytes[1] === 0x03) return { protocol: 'tls', firstLine: '' };
  const text = bytes.subarray(0, 200).toString('latin1');
  const firstLine = (text.split(/\r?\n/)[0] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  if (/^SSH-\d/.test(text)) return { protocol: 'ssh', firstLine };
  if (/^HTTP\/\d/.test(text)) return { protocol: 'http', firstLine };
  return { protocol: 'unknown', firstLine };
}

/** "a plain HTTP server (it answered "HTTP/1.1 400 Bad Request")" */
export function describePeer(peer: PeerBanner): string {
  switch (peer.protocol) {
    case 'ssh':
      return `an SSH server ("${peer.firstLine}")`;
    case 'http':
      return `a plain HTTP server without TLS (it answered "${peer.firstLine}")`;
    case 'tls':
      return 'a TLS server';
    case 'silent':
      return 'a service that sent nothing back';
    default:
      return peer.firstLine ? `an unknown service (it sent "${peer.firstLine}")` : 'an unknown service';
  }
}
