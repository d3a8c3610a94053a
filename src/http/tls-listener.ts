import https from 'node:https';
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import { constants } from 'node:crypto';

export interface ServingPair {
  certificatePem: string;
  privateKeyPem: string;
}

/** How long a client may take, and how many connections it may hold (README "Security"). */
export interface ListenerLimits {
  /** From connect to a finished TLS handshake. */
  handshakeTimeoutMs: number;
  /** From the first byte of a request to its last header. */
  headersTimeoutMs: number;
  /** From the first byte of a request to its last body byte. */
  requestTimeoutMs: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one client address. */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_LIMITS: ListenerLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  maxConnections: 4096,
  maxConnectionsPerAddress: 256,
};

/**
 * Mozilla's "intermediate" profile (ssl-config.mozilla.org, guideline 5.7): TLS 1.3
 * with its three suites, TLS 1.2 with ECDHE key exchange and AEAD ciphers only (no
 * CBC, SHA-1, CCM, ARIA, nor RSA key exchange without forward secrecy). The DHE
 * suites of the profile are left out: every client that would pick them speaks ECDHE.
 * The client's order wins, as the profile says (all suites are strong). Renegotiation
 * is refused: TLS 1.3 has none and clients have no use for it on 1.2.
 */
export const TLS_PROFILE = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  ecdhCurve: 'X25519:prime256v1:secp384r1',
  honorCipherOrder: false,
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
} as const;

/**
 * The one HTTPS listener. Its certificate is replaced with setSecureContext:
 * handshakes after the call use the new pair, connections already open keep theirs.
 */
export class TlsListener {
  readonly server: Server;
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  private lastRefusalWarning = 0;
  /** Told (at most once a minute) when a connection was refused for a cap. */
  onRefused: ((reason: string) => void) | undefined;

  constructor(pair: ServingPair, limits: ListenerLimits = DEFAULT_LIMITS) {
    this.server = https.createServer({
      cert: pair.certificatePem,
      key: pair.privateKeyPem,
      ...TLS_PROFILE,
      // Replies of tens of kilobytes (lists) must not wait for the client's delayed ACK.
      noDelay: true,
      // Idle keep-alive connections are closed after 72 s, as common proxies expect.
      keepAliveTimeout: 72_000,
      handshakeTimeout: limits.handshakeTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the two timeouts above on this beat (30 s by default, which would stretch a 10 s limit to 40 s).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    });
    // Counted on the TCP connection, before any TLS work is spent on it.
    this.server.on('connection', (socket: Socket) => this.admit(socket, limits));
  }

  swap(pair: ServingPair): void {
    this.server.setSecureContext({ cert: pair.certificatePem, key: pair.privateKeyPem, ...TLS_PROFILE });
  }

  private admit(socket: Socket, limits: ListenerLimits): void {
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.open >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
      const reason =
        this.open >= limits.maxConnections
          ? `${this.open} connections are open (RAMPART_MAX_CONNECTIONS)`
          : `${fromAddress} connections are open from ${address} (RAMPART_MAX_CONNECTIONS_PER_ADDRESS)`;
      // A plain close before the handshake: the cheapest refusal, and the client sees it at once.
      socket.destroy();
      if (Date.now() - this.lastRefusalWarning > 60_000) {
        this.lastRefusalWarning = Date.now();
        this.onRefused?.(reason);
      }
      return;
    }
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }
}
