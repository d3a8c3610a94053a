import https from 'node:https';
import type { Server } from 'node:https';

export interface ServingPair {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * The one HTTPS listener. Its certificate is replaced with setSecureContext:
 * handshakes after the call use the new pair, connections already open keep theirs.
 */
export class TlsListener {
  readonly server: Server;

  constructor(pair: ServingPair) {
    this.server = https.createServer({
      cert: pair.certificatePem,
      key: pair.privateKeyPem,
      minVersion: 'TLSv1.2',
      // Replies of tens of kilobytes (lists) must not wait for the client's delayed ACK.
      noDelay: true,
      // Idle keep-alive connections are closed after 72 s, as common proxies expect.
      keepAliveTimeout: 72_000,
    });
  }

  swap(pair: ServingPair): void {
    this.server.setSecureContext({ cert: pair.certificatePem, key: pair.privateKeyPem, minVersion: 'TLSv1.2' });
  }
}
